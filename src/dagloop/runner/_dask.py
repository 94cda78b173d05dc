"""Dask's side of ``DaskRunner``: the run's client, the placement, the catalog I/O.

Imported only when a ``DaskRunner`` runs: importing ``distributed`` is slow and
sets up Dask's own logging.

Data stays on the cluster. A sync node runs as a Dask task whose arguments are
the futures of its inputs; its outputs stay on the worker that made them, and
the in-memory datasets between nodes hold those futures. A value comes to the
parent only when something there needs it: a node running in the parent, a
dataset that is not in memory (saved by the parent), a free output at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import anyio
import cloudpickle
from distributed import Client, Future, LocalCluster

from dagloop.io.core import AbstractVersionedDataset
from dagloop.io.memory_dataset import MemoryDataset, _without_copies
from dagloop.runner._errors import WorkerProcessError
from dagloop.runner._events import _attempt, note_worker
from dagloop.runner._node_run import CatalogIO
from dagloop.runner._placement import Placement

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from dagloop.pipeline.node import Node


@asynccontextmanager
async def dask_client(
    address: str | None, client: Any, n_workers: int | None, threads_per_worker: int
) -> AsyncIterator[Client]:
    """An asynchronous client on the running loop, for one run.

    ``client`` (the caller's, left open) is used as it is when it is
    asynchronous and on this loop; otherwise the run connects a client of its
    own to the same scheduler. With ``address``, to that scheduler. With
    neither, a ``LocalCluster`` of worker processes is started and closed.
    The run's own clients are never made the process's default client.
    """
    if client is not None:
        if getattr(client, "asynchronous", False) and _on_this_loop(client):
            yield client
            return
        own = Client(
            client.scheduler.address,
            asynchronous=True,
            set_as_default=False,
            security=client.security,
        )
    elif address is not None:
        own = Client(address, asynchronous=True, set_as_default=False)
    else:
        # Built, then started inside the try: a run cancelled while the cluster
        # starts still closes whatever had started.
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            asynchronous=True,
            dashboard_address=":0",
        )
        try:
            await cluster
            local = Client(cluster, asynchronous=True, set_as_default=False)
            async with _opened(local) as opened:
                yield opened
        finally:
            await _closed(cluster)
        return
    async with _opened(own) as opened:
        yield opened


@asynccontextmanager
async def _opened(client: Client) -> AsyncIterator[Client]:
    """Start ``client``; close it however the run ends."""
    try:
        await client
        yield client
    finally:
        await _closed(client)


#: How long closing a client or a cluster may take.
_CLOSE_SECONDS = 30
#: How long cancelling a run's futures on the scheduler may take.
_CANCEL_SECONDS = 5


async def _closed(closable: Any) -> None:
    """Close a client or cluster, even when the run was cancelled (shielded),
    within a bound: a worker stuck in a node's code is killed by its nanny."""
    with anyio.move_on_after(_CLOSE_SECONDS, shield=True):
        await closable.close()


def _on_this_loop(client: Any) -> bool:
    """Whether ``client`` is an asynchronous client of the running loop."""
    loop = getattr(client, "loop", None)
    running = asyncio.get_running_loop()
    return loop is running or getattr(loop, "asyncio_loop", None) is running


async def _completed(client: Any, func: Any, *args: Any, key: str | None = None) -> Any:
    """Submit ``func(*args)`` as a task and wait until it is done; its future.

    Cancelled meanwhile (a timeout, the caller), the task is cancelled too; one
    already running in a worker's thread finishes there, its result dropped.
    """
    future = client.submit(func, *args, key=key, pure=False)
    try:
        await _finished(future)
    except BaseException:
        with anyio.move_on_after(_CANCEL_SECONDS, shield=True):
            await client.cancel([future])
        raise
    return future


async def _finished(future: Any) -> None:
    """Wait until ``future`` is done (finished, failed or cancelled) without
    fetching its value. Dask calls back from a thread of its own."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def wake(_: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the run's loop closed meanwhile
            loop.call_soon_threadsafe(done.set)

    future.add_done_callback(wake)
    await done.wait()


class DaskPlacement(Placement):
    """Sync functions as tasks on a Dask cluster, their data kept there."""

    name = "dask"
    #: Values cross to the workers pickled: memory datasets need no copy.
    copies_values = True
    remote = True
    runs_generators = False  # a task returns once: generator nodes stay in the parent

    def __init__(self, client: Any, slots: int) -> None:
        """Tasks through ``client``; ``slots`` nodes started at once (the
        cluster's threads), so that a node waiting in Dask's queue is not
        reported as started."""
        self.client: Any = client  # distributed's API is untyped
        self.admission = anyio.CapacityLimiter(max(slots, 1))

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        future = await _completed(
            self.client, _run_task, node, args, kwargs, key=f"{node.name}-{uuid4().hex}"
        )
        if future.status == "error":
            await _raise_task_error(node, future)
        if future.status == "cancelled":
            raise WorkerProcessError(
                f"Node '{node.name}': its Dask task was cancelled on the cluster "
                f"(a scheduler restart, or another client cancelled it)."
            )
        await _note_where(self.client, future)
        names = node.outputs
        if not names:
            return {}
        if len(names) == 1:
            return {names[0]: future}
        return {
            name: self.client.submit(
                operator.getitem, future, name, key=f"{name}-{uuid4().hex}", pure=False
            )
            for name in names
        }


def _load_dataset(dataset: Any) -> Any:
    """On a worker: load ``dataset`` (sent from the parent)."""
    return dataset.load()


def _save_dataset(dataset: Any, data: Any) -> None:
    """On a worker: save ``data`` (already there) to ``dataset``."""
    dataset.save(data)


def _pickles(dataset: Any) -> bool:
    try:
        cloudpickle.dumps(dataset)
    except Exception:  # any pickling failure: the parent does its I/O
        return False
    return True


def _run_task(node: Node, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """On a worker: call the node's function; its one output, or them by name."""
    outputs = node._outputs_to_dictionary(node.func(*args, **kwargs))
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


async def _task_error(future: Any) -> BaseException:
    """A failed task's exception, with the worker's traceback."""
    error: BaseException = await future.exception()
    return error.with_traceback(await future.traceback())


async def _raise_task_error(node: Node, future: Any) -> None:
    """Raise the node's own exception (as the worker pickled it back), or a clear
    error when the worker running it died more often than Dask retries."""
    error = await _task_error(future)
    if type(error).__name__ == "KilledWorker":
        raise WorkerProcessError(
            f"Node '{node.name}': the Dask workers running it died ({error}); Dask "
            f"retried it as often as its 'allowed-failures' setting allows."
        ) from error
    error.add_note(f"Raised by node '{node.name}' in a Dask task.")
    raise error


async def _note_where(client: Any, future: Any) -> None:
    """Tell the run's events which worker holds the result (if anyone listens)."""
    if _attempt.get() is None:
        return
    held = await client.who_has([future])
    workers = held.get(future.key) or ()
    if workers:
        note_worker(workers[0])


class DaskCatalogIO(CatalogIO):
    """The catalog, as a run on Dask reaches it.

    In-memory datasets keep the futures the cluster's nodes made; loading one in
    the parent (for a node running there, a hook, a save elsewhere) brings the
    value over. ``load_handle`` (for the cluster's own nodes) gives the future.
    With ``workers_do_io``, the cluster's nodes have their persistent inputs
    loaded, and their outputs saved, by a task on the cluster instead of by the
    parent (for datasets that can be sent there: see ``_on_workers``).
    """

    def __init__(self, catalog: Any, client: Any, workers_do_io: bool) -> None:
        """Wrap ``catalog``'s loads and saves."""
        super().__init__(catalog)
        self._client = client
        self._workers_do_io = workers_do_io
        self._sendable: dict[str, bool] = {}
        plain_load, plain_save = self.load, self.save

        async def load_handle(name: str) -> Any:
            if isinstance(self._held(name), Future):
                with _without_copies():  # a handle: nothing to protect by copying
                    return await plain_load(name)
            if self._on_workers(name):
                return await self._on_cluster(_load_dataset, self._dataset(name))
            return await plain_load(name)

        async def load(name: str) -> Any:
            held = self._held(name)
            if isinstance(held, Future):
                return await held  # the value, fetched from the worker holding it
            return await plain_load(name)

        async def save(name: str, data: Any) -> None:
            if isinstance(data, Future):
                # Only a plain MemoryDataset keeps a future: a subclass may do
                # more with what it is given, and gets the value.
                if type(self._dataset(name)) is MemoryDataset:
                    with _without_copies():
                        await plain_save(name, data)
                    return
                if self._on_workers(name):
                    await self._on_cluster(_save_dataset, self._dataset(name), data)
                    return
                data = await data  # the parent saves persistent datasets
            await plain_save(name, data)

        self.load, self.save, self.load_handle = load, save, load_handle

    def _on_workers(self, name: str) -> bool:
        """Whether the cluster does ``name``'s I/O: asked for, and a persistent,
        unversioned dataset that pickles (decided once per dataset and run)."""
        if not self._workers_do_io:
            return False
        if name not in self._sendable:
            dataset = self._dataset(name)
            self._sendable[name] = (
                dataset is not None
                and not isinstance(dataset, MemoryDataset)
                and not isinstance(dataset, AbstractVersionedDataset)
                and _pickles(dataset)
            )
        return self._sendable[name]

    async def _on_cluster(self, func: Any, *args: Any) -> Any:
        """Run ``func(*args)`` as a task and wait for it; its future (its value
        stays on the worker), or its error with the worker's traceback."""
        future = await _completed(self._client, func, *args)
        if future.status == "error":
            raise await _task_error(future)
        return future

    def _dataset(self, name: str) -> Any:
        datasets = getattr(self.catalog, "_datasets", None)
        return datasets.get(name) if isinstance(datasets, dict) else None

    def _held(self, name: str) -> Any:
        """What an in-memory dataset holds (a future, perhaps), without a copy."""
        dataset = self._dataset(name)
        return dataset._data if type(dataset) is MemoryDataset else None

    async def fetch_futures(self, names: set[str]) -> None:
        """Replace the futures in the datasets ``names`` with their values: the
        run's free outputs, which must outlive its client."""
        held = {name: self._held(name) for name in names}
        futures = {name: f for name, f in held.items() if isinstance(f, Future)}
        if not futures:
            return
        values = await self._client.gather(list(futures.values()))
        for name, value in zip(futures, values, strict=True):
            with _without_copies():
                self._dataset(name).save(value)

    def drop_futures(self, names: set[str]) -> None:
        """Release the datasets ``names`` that still hold a future (a failed or
        cancelled run's): the client they belong to is about to close."""
        for name in names:
            if isinstance(self._held(name), Future):
                self._dataset(name).release()
