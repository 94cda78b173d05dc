"""Node functions and test doubles shared by the runner tests.

Functions that run in worker processes (``ParallelRunner``, ``executor="process"``)
are pickled by reference, so they live here, at module level, where a worker can
import them as ``tests.runner._nodes``. Datasets and hooks stay in the test process
(dagloop does all I/O and calls all hooks in the parent), so they may record into
plain lists.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.managers import SyncManager
from typing import TYPE_CHECKING, Any

from dagloop.framework.hooks import _create_hook_manager, hook_impl
from dagloop.io import (
    AbstractDataset,
    DataCatalog,
    MemoryDataset,
    SharedMemoryDataCatalog,
)
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dagloop.runner import AbstractRunner

WORKER_LOGGER = "tests.runner._nodes.worker"

RUNNER_KINDS = ("sequential", "thread", "parallel")


# ------------------------------------------------------------------ runners


def make_runner(kind: str, **kwargs: Any) -> AbstractRunner:
    """A runner of ``kind`` ("sequential", "thread" or "parallel")."""
    if kind == "sequential":
        return SequentialRunner(**kwargs)
    if kind == "thread":
        return ThreadRunner(**kwargs)
    return ParallelRunner(**kwargs)


def make_catalog(kind: str, datasets: dict[str, Any] | None = None) -> DataCatalog:
    """The catalog a user would pair with a runner of ``kind``.

    ``ParallelRunner`` needs a ``SharedMemoryDataCatalog``, as in Kedro.
    """
    if kind == "parallel":
        return SharedMemoryDataCatalog(datasets or {})
    return DataCatalog(datasets or {})


def runner_logger(kind: str) -> str:
    """The logger name of a runner of ``kind`` (its module)."""
    return f"dagloop.runner.{kind}_runner"


# ----------------------------------------------------------- node functions


class NodeFailure(Exception):
    """What the failing node functions raise."""


def identity(x: Any) -> Any:
    return x


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def add(a: int, b: int) -> int:
    return a + b


def sink(x: Any) -> None:
    return None


def fail(*inputs: Any) -> Any:
    raise NodeFailure(f"cannot handle {', '.join(repr(i) for i in inputs)}")


def nap(x: Any) -> Any:
    """Wait 50 ms, then pass ``x`` on: long enough for nodes to overlap."""
    time.sleep(0.05)
    return x


def current_pid(x: Any) -> int:
    return os.getpid()


def lock_factory(x: Any) -> Any:
    """Returns something that cannot be pickled."""
    return threading.Lock()


def whereabouts(x: Any) -> tuple[int, int]:
    """Where the node ran: ``(process id, thread id)``."""
    return os.getpid(), threading.get_ident()


def log_in_worker(x: Any) -> Any:
    logger = logging.getLogger(WORKER_LOGGER)
    logger.info("info from node, pid %d", os.getpid())
    logger.warning("warning from node: %s", x)
    return x


def count_to(n: int) -> Iterator[int]:
    yield from range(n)


def pairs(n: int) -> Iterator[tuple[int, int]]:
    for i in range(n):
        yield i, i * 10


# ------------------------------------------- synchronisation across processes
#
# AnyIO's worker processes are not started by ``multiprocessing``, so a manager
# proxy cannot be handed to them as it is: a node receives a *reference*, the
# manager's authentication key and the pickled proxy, and rebuilds the proxy.


@contextmanager
def _manager() -> Iterator[tuple[bytes, SyncManager]]:
    authkey = os.urandom(16)
    # "spawn": forking a process that runs threads (the test runner's) is unsafe.
    manager = SyncManager(authkey=authkey, ctx=multiprocessing.get_context("spawn"))
    manager.start()
    try:
        yield authkey, manager
    finally:
        manager.shutdown()


def _rebuild(reference: tuple[bytes, bytes]) -> Any:
    authkey, payload = reference
    multiprocessing.current_process().authkey = authkey
    return pickle.loads(payload)


@contextmanager
def process_barrier(parties: int) -> Iterator[tuple[bytes, bytes]]:
    """A reference to a ``Barrier(parties)`` for :func:`wait_at_barrier`."""
    with _manager() as (authkey, manager):
        barrier = manager.Barrier(parties)  # type: ignore[attr-defined]
        yield authkey, pickle.dumps(barrier)


def wait_at_barrier(barrier_ref: tuple[bytes, bytes]) -> int:
    """Wait until every party reached the barrier; return this process's pid.

    Raises ``threading.BrokenBarrierError`` after 20 s if the other parties never
    come (they do not run at the same time): a guard, not a timing assertion.
    """
    _rebuild(barrier_ref).wait(timeout=20)
    return os.getpid()


@contextmanager
def process_event() -> Iterator[tuple[tuple[bytes, bytes], Any]]:
    """A reference to an ``Event`` for :func:`signal_then_sleep`, and the event."""
    with _manager() as (authkey, manager):
        event = manager.Event()  # type: ignore[attr-defined]
        yield (authkey, pickle.dumps(event)), event


def signal_then_sleep(event_ref: tuple[bytes, bytes]) -> int:
    """Set the event (the node is running in its worker), then block for 40 s.

    A run that fails meanwhile must not wait for this node.
    """
    _rebuild(event_ref).set()
    time.sleep(40)
    return os.getpid()


# ------------------------------------------------------------------ datasets


class RecordingDataset(MemoryDataset):
    """A ``MemoryDataset`` appending ``(event, name[, data])`` to a shared log."""

    def __init__(self, name: str, log: list[tuple[Any, ...]], **kwargs: Any) -> None:
        self.name = name
        self.log: list[tuple[Any, ...]] = []  # initial data is not an event
        super().__init__(**kwargs)
        self.log = log

    def load(self) -> Any:
        self.log.append(("load", self.name))
        return super().load()

    def save(self, data: Any) -> None:
        self.log.append(("save", self.name, data))
        super().save(data)

    def _release(self) -> None:
        self.log.append(("release", self.name))
        super()._release()


class StoreDataset(AbstractDataset[Any, Any]):
    """A persistent dataset kept in a dict under ``key``, recording what happens.

    Several entries may share one key (transcoded names of one dataset). Release
    is recorded but keeps the data: it is persistent.
    """

    def __init__(
        self,
        name: str,
        store: dict[str, Any],
        log: list[tuple[Any, ...]],
        key: str | None = None,
    ) -> None:
        self.name = name
        self.store = store
        self.log = log
        self.key = key or name

    def load(self) -> Any:
        self.log.append(("load", self.name))
        return self.store[self.key]

    def save(self, data: Any) -> None:
        self.log.append(("save", self.name, data))
        self.store[self.key] = data

    def _exists(self) -> bool:
        return self.key in self.store

    def _release(self) -> None:
        self.log.append(("release", self.name))

    def confirm(self) -> None:
        self.log.append(("confirm", self.name))

    def _describe(self) -> dict[str, Any]:
        return {"key": self.key}


class FailingLoadDataset(AbstractDataset[Any, Any]):
    """A dataset whose load always fails."""

    def load(self) -> Any:
        raise OSError("the disk is on fire")

    def save(self, data: Any) -> None:
        raise AssertionError("never saved")

    def _describe(self) -> dict[str, Any]:
        return {}


# --------------------------------------------------------------------- hooks


@dataclass
class HookCall:
    """One hook call, as :class:`HookRecorder` saw it."""

    hook: str
    subject: str  # the dataset name, or the node name for node hooks
    kwargs: dict[str, Any]
    thread: int = field(default_factory=threading.get_ident)
    pid: int = field(default_factory=os.getpid)


class HookRecorder:
    """Implements every node and dataset hook and records each call."""

    def __init__(self) -> None:
        self.calls: list[HookCall] = []

    def trail(self) -> list[tuple[str, str]]:
        """``(hook, dataset or node name)`` for every call, in order."""
        return [(call.hook, call.subject) for call in self.calls]

    def of(self, hook: str) -> list[HookCall]:
        return [call for call in self.calls if call.hook == hook]

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        self.calls.append(
            HookCall("before_dataset_loaded", dataset_name, {"node": node})
        )

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        self.calls.append(
            HookCall("after_dataset_loaded", dataset_name, {"data": data, "node": node})
        )

    @hook_impl
    def before_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        self.calls.append(
            HookCall(
                "before_node_run",
                node.name,
                {
                    "catalog": catalog,
                    "inputs": inputs,
                    "is_async": is_async,
                    "run_id": run_id,
                },
            )
        )

    @hook_impl
    def after_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        self.calls.append(
            HookCall(
                "after_node_run",
                node.name,
                {
                    "catalog": catalog,
                    "inputs": inputs,
                    "outputs": outputs,
                    "is_async": is_async,
                    "run_id": run_id,
                },
            )
        )

    @hook_impl
    def on_node_error(
        self,
        error: Exception,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        self.calls.append(
            HookCall(
                "on_node_error",
                node.name,
                {
                    "error": error,
                    "catalog": catalog,
                    "inputs": inputs,
                    "is_async": is_async,
                    "run_id": run_id,
                },
            )
        )

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self.calls.append(
            HookCall("before_dataset_saved", dataset_name, {"data": data, "node": node})
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self.calls.append(
            HookCall("after_dataset_saved", dataset_name, {"data": data, "node": node})
        )


def hook_manager_with(*hooks: Any) -> Any:
    """A fresh dagloop hook manager with ``hooks`` registered."""
    manager = _create_hook_manager()
    for hook in hooks:
        manager.register(hook)
    return manager
