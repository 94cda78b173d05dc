"""``ParallelRunner``: Kedro's checks up front, I/O in the parent, nodes in workers.

Catalog and node validation as Kedro does it; datasets need not be picklable
because they never leave the parent; log records and exceptions from the worker
reach the caller; sync nodes really run in several processes at once.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

import pytest

from dagloop.io import (
    AbstractDataset,
    DataCatalog,
    MemoryDataset,
    SharedMemoryDataCatalog,
    SharedMemoryDataset,
)
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner
from tests.runner._nodes import (
    WORKER_LOGGER,
    HookRecorder,
    NodeFailure,
    RecordingDataset,
    add_one,
    double,
    fail,
    hook_manager_with,
    identity,
    lock_factory,
    log_in_worker,
    process_barrier,
    wait_at_barrier,
)

NOT_SERIALISABLE_TAIL = (
    "\nIn order to utilize multiprocessing you need to make sure all nodes are "
    "serialisable, i.e. nodes should not include lambda functions, nested "
    "functions, closures, etc.\nIf you are using custom decorators ensure they are "
    "correctly decorated using functools.wraps()."
)


def chain() -> Pipeline:
    return Pipeline(
        [node(add_one, "a", "b", name="n1"), node(double, "b", "c", name="n2")]
    )


# ----------------------------------------------------------------- catalog


class TestCatalog:
    def test_shared_memory_catalog_is_accepted(self):
        catalog = SharedMemoryDataCatalog({"a": MemoryDataset(1)})
        result = ParallelRunner().run(chain(), catalog)
        assert result["c"].load() == 4
        assert isinstance(catalog["c"], SharedMemoryDataset)

    def test_plain_data_catalog_is_rejected_before_any_node_runs(self):
        log: list[tuple[Any, ...]] = []
        catalog = DataCatalog({"a": RecordingDataset("a", log, data=1)})

        with pytest.raises(AttributeError) as excinfo:
            ParallelRunner().run(chain(), catalog)

        assert str(excinfo.value) == (
            "'DataCatalog' object has no attribute 'validate_catalog'"
        )
        assert log == []

    def test_unpicklable_datasets_are_fine(self):
        class Locked(MemoryDataset):
            """Holds a lock: cannot be pickled, so could not go to a worker."""

            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self.lock = threading.Lock()

        catalog = SharedMemoryDataCatalog(
            {"a": Locked(data=1), "b": Locked(), "c": Locked()}
        )

        result = ParallelRunner().run(chain(), catalog)

        assert result["c"].load() == 4
        assert result["c"] is catalog["c"]

    def test_datasets_without_pickle_support_at_all_are_fine(self):
        class NoPickle(AbstractDataset[Any, Any]):
            def __init__(self) -> None:
                self.data: Any = None

            def __reduce__(self):
                raise TypeError("NoPickle objects cannot be pickled")

            def load(self) -> Any:
                return self.data

            def save(self, data: Any) -> None:
                self.data = data

            def _describe(self) -> dict[str, Any]:
                return {}

        source, sink = NoPickle(), NoPickle()
        source.data = 20
        catalog = SharedMemoryDataCatalog({"a": source, "c": sink})

        ParallelRunner().run(chain(), catalog)

        assert sink.data == 42


# ------------------------------------------------------------------- nodes


def outer() -> Any:
    def inner(x):
        return x

    return inner


class TestNodeValidation:
    def test_lambdas_and_closures_are_rejected_before_anything_runs(self):
        log: list[tuple[Any, ...]] = []
        catalog = SharedMemoryDataCatalog({"a": RecordingDataset("a", log, data=1)})
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="ok"),
                node(lambda x: x, "b", "c", name="bad"),
                node(outer(), "c", "d", name="nested"),
            ]
        )
        expected = (
            "The following nodes cannot be serialised: "
            "[Node(<lambda>, 'b', 'c', 'bad'), Node(inner, 'c', 'd', 'nested')]"
            + NOT_SERIALISABLE_TAIL
        )

        with pytest.raises(AttributeError) as excinfo:
            ParallelRunner().run(pipe, catalog)

        assert str(excinfo.value) == expected
        assert log == []

    def test_async_closures_are_accepted(self):
        async def in_parent(x):
            return os.getpid()

        catalog = SharedMemoryDataCatalog({"a": MemoryDataset(1)})
        pipe = Pipeline([node(in_parent, "a", "pid", name="n1")])
        result = ParallelRunner().run(pipe, catalog)
        assert result["pid"].load() == os.getpid()


# ----------------------------------------------------------- worker logging


class TestWorkerLogging:
    def test_records_reach_the_parent_with_the_nodes_logger(self, caplog):
        caplog.set_level(logging.INFO)
        catalog = SharedMemoryDataCatalog({"a": MemoryDataset("payload")})
        pipe = Pipeline([node(log_in_worker, "a", "b", name="talker")])

        ParallelRunner().run(pipe, catalog)

        records = [r for r in caplog.records if r.name == WORKER_LOGGER]
        assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
        # Emitted in a worker process, which the records still say.
        worker_pid = records[0].process
        assert worker_pid != os.getpid()
        assert records[1].process == worker_pid
        assert [r.getMessage() for r in records] == [
            f"info from node, pid {worker_pid}",
            "warning from node: payload",
        ]

    def test_records_below_the_parents_level_are_dropped(self, caplog):
        caplog.set_level(logging.WARNING)
        catalog = SharedMemoryDataCatalog({"a": MemoryDataset("payload")})
        pipe = Pipeline([node(log_in_worker, "a", "b", name="talker")])

        ParallelRunner().run(pipe, catalog)

        records = [r for r in caplog.records if r.name == WORKER_LOGGER]
        assert [(r.levelno, r.getMessage()) for r in records] == [
            (logging.WARNING, "warning from node: payload")
        ]


# ------------------------------------------------------------ worker errors


class TestWorkerErrors:
    def test_exception_type_and_message_reach_the_caller(self, caplog):
        recorder = HookRecorder()
        catalog = SharedMemoryDataCatalog({"a": MemoryDataset(1)})
        pipe = Pipeline([node(fail, "a", "b", name="n1")])

        with pytest.raises(NodeFailure, match=r"^cannot handle 1$") as excinfo:
            ParallelRunner().run(pipe, catalog, hook_manager_with(recorder))

        assert type(excinfo.value) is NodeFailure
        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value
        assert call.pid == os.getpid()
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.name == "dagloop.pipeline.node" and r.levelno == logging.ERROR
        ]
        assert errors == [
            "Node n1: fail([a]) -> [b] failed with error: \ncannot handle 1"
        ]

    def test_unpicklable_input_value_names_the_node(self):
        catalog = SharedMemoryDataCatalog(
            {"a": MemoryDataset(threading.Lock(), copy_mode="assign")}
        )
        pipe = Pipeline([node(identity, "a", "b", name="needs_a_lock")])
        with pytest.raises(Exception, match=re.escape("Node 'needs_a_lock'")):
            ParallelRunner().run(pipe, catalog)

    def test_unpicklable_result_names_the_node(self):
        catalog = SharedMemoryDataCatalog({"a": MemoryDataset(1)})
        pipe = Pipeline([node(lock_factory, "a", "b", name="makes_a_lock")])
        with pytest.raises(Exception, match=re.escape("Node 'makes_a_lock'")):
            ParallelRunner().run(pipe, catalog)


# ------------------------------------------------------------- parallelism


class TestParallelism:
    def test_two_cpu_nodes_run_in_two_processes_at_once(self):
        with process_barrier(2) as barrier:
            catalog = SharedMemoryDataCatalog({"barrier": MemoryDataset(barrier)})
            # Each node waits at the barrier until the other one is there too.
            pipe = Pipeline(
                [
                    node(wait_at_barrier, "barrier", "pid1", name="left"),
                    node(wait_at_barrier, "barrier", "pid2", name="right"),
                ]
            )
            result = ParallelRunner(max_workers=2).run(pipe, catalog)

        pids = {result["pid1"].load(), result["pid2"].load()}
        assert len(pids) == 2
        assert os.getpid() not in pids

    def test_at_most_max_workers_processes(self):
        with process_barrier(2) as barrier:
            catalog = SharedMemoryDataCatalog({"barrier": MemoryDataset(barrier)})
            pipe = Pipeline(
                [
                    node(wait_at_barrier, "barrier", f"pid{i}", name=f"n{i}")
                    for i in range(4)
                ]
            )
            result = ParallelRunner(max_workers=2).run(pipe, catalog)

        # All four were ready at once; with more processes allowed each would
        # have gone to a worker of its own.
        pids = {result[f"pid{i}"].load() for i in range(4)}
        assert len(pids) == 2
        assert os.getpid() not in pids
