"""``DaskRunner``: sync nodes as tasks on a Dask cluster, their data kept there.

The run itself (scheduling, hooks, events, I/O of persistent datasets) stays in
the parent, on its event loop, as with every dagloop runner; Dask's asynchronous
client runs on that same loop. Nothing of Dask is imported until a run starts.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from dagloop._bridge import on_asyncio
from dagloop.pipeline._controls import _positive_int
from dagloop.runner.runner import (
    AbstractRunner,
    Policy,
    RunRequest,
    RunResources,
    _cpu_count,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from dagloop.pipeline import Pipeline

__all__ = ["DaskRunner"]


class DaskRunner(AbstractRunner):
    """Runs sync nodes as Dask tasks; ``async def`` nodes on the parent's loop.

    Where the cluster comes from:

    * ``DaskRunner()``: a ``distributed.LocalCluster`` of worker processes (one
      per core), started for each run and closed after it;
    * ``DaskRunner(address="tcp://host:8786")``: a running scheduler;
    * ``DaskRunner(client=client)``: your ``distributed.Client``, synchronous or
      asynchronous, left open (a run connects its own asynchronous client to
      the same scheduler unless yours is asynchronous and on the run's loop).

    Intermediate in-memory datasets hold Dask futures: values move from worker
    to worker, and come to the parent only for a node running there, a dataset
    saved there, or a free output. Persistent datasets are loaded and saved by
    the parent. Node functions travel with cloudpickle, so the workers must be
    able to import what they use (see ``docs/distributed.md``).

    Dask's client runs on asyncio only: under trio, a run raises ``RuntimeError``
    before any node runs.
    """

    _default_sync = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        workers_do_io: bool = False,
        is_async: bool = False,
        **kwargs: Any,
    ) -> None:
        """Create the runner.

        Args:
            address: A Dask scheduler's address (``tcp://host:8786``).
            client: A ``distributed.Client`` to use (not closed by the runner).
            n_workers: Worker processes of the ``LocalCluster`` started when
                neither ``address`` nor ``client`` is given (default: the CPU
                count).
            threads_per_worker: Threads per worker of that ``LocalCluster``.
            workers_do_io: Have the cluster load the persistent inputs of the
                nodes it runs and save their outputs (for datasets that pickle
                and are not versioned), rather than the parent: for a cluster
                whose workers reach the data (shared storage, S3).
            is_async: Load a node's inputs and save its outputs concurrently.
            **kwargs: ``max_concurrency``, ``limits``, ``pool`` (see
                ``AbstractRunner``).

        Raises:
            ValueError: When both ``address`` and ``client`` are given, or a
                worker count is not positive.
        """
        super().__init__(is_async=is_async, **kwargs)
        if address is not None and client is not None:
            raise ValueError(
                "Give DaskRunner either address= (a scheduler to connect to) or "
                "client= (a distributed.Client), not both."
            )
        if (address is not None or client is not None) and (
            n_workers is not None or threads_per_worker != 1
        ):
            raise ValueError(
                "n_workers= and threads_per_worker= shape the LocalCluster DaskRunner "
                "starts itself; with address= or client=, the cluster is already "
                "there: size it where it is started."
            )
        for label, value in (
            ("n_workers", n_workers),
            ("threads_per_worker", threads_per_worker),
        ):
            if value is not None and not _positive_int(value):
                raise ValueError(f"{label} should be a positive int, got {value!r}")
        self._address = address
        self._client = client
        self._n_workers = n_workers or _cpu_count()
        self._threads_per_worker = threads_per_worker
        self._workers_do_io = workers_do_io

    def _policy(self, pipeline: Pipeline, owns_loop: bool) -> Policy:
        return Policy(
            default_sync=self._default_sync,
            sequential=False,
            threads=min(32, _cpu_count() + 4),
            processes=1,
        )

    @asynccontextmanager
    async def _resources(
        self, request: RunRequest, pipeline: Pipeline
    ) -> AsyncIterator[RunResources]:
        """The run's client (and cluster), the Dask placement, and the catalog
        as the cluster's nodes see it; free outputs fetched before the client
        goes."""
        if not on_asyncio():
            raise RuntimeError(
                "DaskRunner needs asyncio: Dask's client runs on asyncio only, and "
                "this run is on trio. Call run() (asyncio by default), or await "
                "arun() from asyncio code."
            )
        from dagloop.runner._dask import (
            DaskCatalogIO,
            DaskPlacement,
            dask_client,
        )

        async with dask_client(
            self._address, self._client, self._n_workers, self._threads_per_worker
        ) as client:
            threads = sum((await client.nthreads()).values())  # type: ignore[no-untyped-call]
            catalog_io = DaskCatalogIO(request.catalog, client, self._workers_do_io)
            try:
                yield RunResources(
                    places=(DaskPlacement(client, threads),), catalog=catalog_io
                )
                await catalog_io.fetch_futures(pipeline.outputs())
            finally:
                # Futures die with the client: none may stay in the catalog.
                catalog_io.drop_futures(pipeline.datasets())
