"""Kedro's runner contract (spec section 3), checked for all three runners.

Return value, warm-up, the free-input check, release rules, ``only_missing_outputs``,
resume suggestions, errors and hooks on failure, log messages, generator streaming,
``confirms`` and ``is_async``; plus the planning helpers of ``dagloop.runner.runner``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

import pytest

from dagloop.io import (
    DataCatalog,
    DatasetError,
    MemoryDataset,
    SharedMemoryDataCatalog,
    SharedMemoryDataset,
)
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from dagloop.runner.runner import (
    _build_node_children_map,
    _determine_nodes_to_run,
    _enumerate_nodes_with_outputs,
    _enumerate_non_persistent_inputs,
    _find_all_nodes_for_resumed_pipeline,
    _find_initial_node_group,
    _find_nodes_to_resume_from,
    _has_missing_persistent_outputs,
    _is_dataset_ephemeral_or_missing,
    _is_persistent_dataset_missing,
    _nodes_with_external_inputs,
    _outputs_needed_by_children,
    _should_node_run,
)
from tests.runner._nodes import (
    RUNNER_KINDS,
    FailingLoadDataset,
    HookRecorder,
    NodeFailure,
    RecordingDataset,
    StoreDataset,
    add,
    add_one,
    count_to,
    double,
    fail,
    hook_manager_with,
    identity,
    make_catalog,
    make_runner,
    pairs,
    runner_logger,
    sink,
)

NO_NODES_RAN = "No nodes ran. Repeat the previous command to attempt a new run."
RESUME = (
    "There are {n} nodes that have not run.\nYou can resume the pipeline run from "
    "the nearest nodes with persisted inputs by adding the following argument to "
    'your previous command:\n  --from-nodes "{names}"'
)
ASYNC_MODE = "Asynchronous mode is enabled for loading and saving data."
SYNC_MODE = "Using synchronous mode for loading and saving data."


@pytest.fixture(params=RUNNER_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def messages(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == logger and record.levelno == level
    ]


def chain() -> Pipeline:
    """a -> n1 -> b -> n2 -> c"""
    return Pipeline(
        [node(add_one, "a", "b", name="n1"), node(double, "b", "c", name="n2")]
    )


def chain_through(middle: str) -> Pipeline:
    """a -> n1 -> <middle> -> n2 -> c"""
    return Pipeline(
        [node(add_one, "a", middle, name="n1"), node(double, middle, "c", name="n2")]
    )


class FailingReleaseDataset(MemoryDataset):
    def _release(self) -> None:
        raise OSError("cannot let go")


# ------------------------------------------------------------ return value


class TestReturnValue:
    def test_free_outputs_map_to_their_dataset_objects(self, kind):
        log: list[tuple[Any, ...]] = []
        store: dict[str, Any] = {}
        persisted = StoreDataset("persisted", store, log)
        catalog = make_catalog(kind, {"a": MemoryDataset(1), "persisted": persisted})
        pipe = Pipeline(
            [
                node(add_one, "a", "b", name="n1"),
                node(double, "b", "in_memory", name="n2"),
                node(identity, "b", "persisted", name="n3"),
            ]
        )

        result = make_runner(kind).run(pipe, catalog)

        assert set(result) == {"in_memory", "persisted"}
        assert result["persisted"] is persisted
        assert result["in_memory"] is catalog["in_memory"]
        # Free outputs are never released: the memory one still holds its data.
        assert result["in_memory"].load() == 4
        assert store == {"persisted": 2}

    def test_empty_pipeline_returns_empty_dict(self, kind):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        assert make_runner(kind).run(Pipeline([]), catalog) == {}

    def test_pipeline_without_free_outputs_returns_empty_dict(self, kind):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(sink, "a", None, name="n1")])
        assert make_runner(kind).run(pipe, catalog) == {}


# ----------------------------------------------------------------- warm-up


class TestWarmUp:
    @staticmethod
    def runtime_type(kind: str) -> type:
        return SharedMemoryDataset if kind == "parallel" else MemoryDataset

    def test_undeclared_datasets_are_registered_in_the_callers_catalog(self, kind):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        assert set(catalog.keys()) == {"a"}

        make_runner(kind).run(chain(), catalog)

        assert set(catalog.keys()) == {"a", "b", "c"}
        assert type(catalog["b"]) is self.runtime_type(kind)
        assert type(catalog["c"]) is self.runtime_type(kind)
        assert catalog["c"].load() == 4

    def test_datasets_are_registered_even_when_the_run_fails(self, kind):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline(
            [node(fail, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )

        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog)

        assert set(catalog.keys()) == {"a", "b", "c"}
        assert type(catalog["b"]) is self.runtime_type(kind)

    def test_input_matching_a_factory_pattern_counts_as_known(self, kind):
        catalog_class = SharedMemoryDataCatalog if kind == "parallel" else DataCatalog
        catalog = catalog_class.from_config(
            {"{name}_in": {"type": "dagloop.io.MemoryDataset", "data": 20}}
        )
        pipe = Pipeline([node(add_one, "x_in", "out", name="n1")])

        result = make_runner(kind).run(pipe, catalog)

        assert result["out"].load() == 21
        # Materialised and registered, not only matched by the pattern.
        assert "x_in" in list(catalog)

    def test_declared_empty_input_passes_the_check_and_fails_at_load(self, kind):
        log: list[tuple[Any, ...]] = []
        catalog = make_catalog(kind, {"a": RecordingDataset("a", log)})
        pipe = Pipeline([node(identity, "a", "b", name="n1")])

        with pytest.raises(DatasetError, match="has not been saved yet"):
            make_runner(kind).run(pipe, catalog)
        assert log == [("load", "a")]


class TestUnsatisfiedInputs:
    def test_missing_free_input_raises_before_any_node_runs(self, kind):
        log: list[tuple[Any, ...]] = []
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": RecordingDataset("a", log, data=1)})
        pipe = Pipeline(
            [
                # n1 could run (its input exists); it must not.
                node(add_one, "a", "b", name="n1"),
                node(add, ["b", "missing"], "c", name="n2"),
            ]
        )
        expected = (
            f"Pipeline input(s) {{'missing'}} not found in the {type(catalog).__name__}"
        )

        with pytest.raises(ValueError, match=re.escape(expected)):
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        assert log == []
        assert recorder.calls == []

    def test_no_resume_suggestion_for_missing_inputs(self, kind, caplog):
        pipe = Pipeline([node(identity, "nowhere", "b", name="n1")])
        with pytest.raises(ValueError, match="not found in the"):
            make_runner(kind).run(pipe, make_catalog(kind))
        assert messages(caplog, runner_logger(kind), logging.WARNING) == []

    def test_the_message_names_the_catalog_class(self):
        catalog = DataCatalog({})
        pipe = Pipeline([node(identity, "nowhere", "b", name="n1")])
        with pytest.raises(ValueError) as excinfo:
            SequentialRunner().run(pipe, catalog)
        assert str(excinfo.value) == (
            "Pipeline input(s) {'nowhere'} not found in the DataCatalog"
        )


# ---------------------------------------------------------- release rules


class TestRelease:
    def test_intermediates_are_released_after_their_last_consumer(self, kind):
        log: list[tuple[Any, ...]] = []
        datasets = {
            name: RecordingDataset(name, log) for name in ("first", "second", "out")
        }
        datasets["a"] = RecordingDataset("a", log, data=1)
        catalog = make_catalog(kind, datasets)
        pipe = Pipeline(
            [
                node(add_one, "a", "first", name="n1"),
                node(double, "first", "second", name="n2"),
                node(add_one, "second", "out", name="n3"),
            ]
        )

        make_runner(kind).run(pipe, catalog)

        assert log == [
            ("load", "a"),
            ("save", "first", 2),
            ("load", "first"),
            ("save", "second", 4),
            ("release", "first"),
            ("load", "second"),
            ("save", "out", 5),
            ("release", "second"),
        ]
        # Free input and free output are never released.
        assert datasets["a"].load() == 1
        assert datasets["out"].load() == 5

    def test_dataset_read_by_two_nodes_is_released_after_both(self, kind):
        log: list[tuple[Any, ...]] = []
        datasets = {name: RecordingDataset(name, log) for name in ("b", "c", "d")}
        datasets["a"] = RecordingDataset("a", log, data=1)
        catalog = make_catalog(kind, datasets)
        pipe = Pipeline(
            [
                node(add_one, "a", "b", name="n1"),
                node(double, "b", "c", name="n2"),
                node(add_one, "b", "d", name="n3"),
            ]
        )

        make_runner(kind).run(pipe, catalog)

        releases = [event for event in log if event[0] == "release"]
        assert releases == [("release", "b")]
        released_at = log.index(("release", "b"))
        assert released_at > log.index(("save", "c", 4))
        assert released_at > log.index(("save", "d", 3))
        assert [event for event in log if event == ("load", "b")] == [
            ("load", "b"),
            ("load", "b"),
        ]

    def test_transcoded_entries_are_released_by_their_exact_names(self, kind):
        log: list[tuple[Any, ...]] = []
        store: dict[str, Any] = {"a": 1}
        catalog = make_catalog(
            kind,
            {
                "a": StoreDataset("a", store, log),
                "ds@x": StoreDataset("ds@x", store, log, key="ds"),
                "ds@y": StoreDataset("ds@y", store, log, key="ds"),
                "c": StoreDataset("c", store, log),
            },
        )
        pipe = Pipeline(
            [
                node(add_one, "a", "ds@x", name="n1"),
                node(double, "ds@y", "c", name="n2"),
            ]
        )

        make_runner(kind).run(pipe, catalog)

        # The producer's entry has no consumer under its exact name: released at
        # once; the consumer's entry after its consumer.
        assert log == [
            ("load", "a"),
            ("save", "ds@x", 2),
            ("release", "ds@x"),
            ("load", "ds@y"),
            ("save", "c", 4),
            ("release", "ds@y"),
        ]

    def test_output_nobody_reads_that_is_not_free_is_released_at_once(self, kind):
        # 'b@raw' is produced and consumed only as 'b@other': not a free output,
        # no consumer under its exact name.
        log: list[tuple[Any, ...]] = []
        store: dict[str, Any] = {}
        catalog = make_catalog(
            kind,
            {
                "a": MemoryDataset(1),
                "b@raw": StoreDataset("b@raw", store, log, key="b"),
                "b@other": StoreDataset("b@other", store, log, key="b"),
            },
        )
        pipe = Pipeline(
            [
                node(add_one, "a", "b@raw", name="n1"),
                node(double, "b@other", "c", name="n2"),
            ]
        )
        make_runner(kind).run(pipe, catalog)
        assert log.index(("release", "b@raw")) == log.index(("save", "b@raw", 2)) + 1


# ------------------------------------------------------ only_missing_outputs


class TestOnlyMissingOutputs:
    @pytest.fixture(autouse=True)
    def _capture(self, caplog):
        caplog.set_level(logging.DEBUG, logger="dagloop.runner")

    def test_all_persistent_outputs_exist_runs_nothing(self, kind, caplog):
        log: list[tuple[Any, ...]] = []
        store = {"a": 1, "p1": 10, "p2": 20}
        catalog = make_catalog(
            kind, {name: StoreDataset(name, store, log) for name in store}
        )
        pipe = Pipeline(
            [node(add_one, "a", "p1", name="n1"), node(double, "p1", "p2", name="n2")]
        )

        result = make_runner(kind).run(pipe, catalog, only_missing_outputs=True)

        assert result == {}
        assert log == []
        assert store == {"a": 1, "p1": 10, "p2": 20}
        info = messages(caplog, runner_logger(kind), logging.INFO)
        assert "Skipping all 2 nodes (all persistent outputs exist)" in info
        assert not [m for m in info if m.startswith("Running ")]

    def test_runs_only_nodes_with_missing_outputs(self, kind, caplog):
        log: list[tuple[Any, ...]] = []
        store = {"a": 1, "p1": 10}
        catalog = make_catalog(
            kind, {name: StoreDataset(name, store, log) for name in ("a", "p1", "p2")}
        )
        pipe = Pipeline(
            [node(add_one, "a", "p1", name="n1"), node(double, "p1", "p2", name="n2")]
        )

        result = make_runner(kind).run(pipe, catalog, only_missing_outputs=True)

        assert set(result) == {"p2"}
        assert log == [("load", "p1"), ("save", "p2", 20)]
        info = messages(caplog, runner_logger(kind), logging.INFO)
        skipping = info.index("Skipping 1 nodes with existing outputs: n1")
        assert info[skipping + 1] == "Running 1 out of 2 nodes"
        debug = messages(caplog, runner_logger(kind), logging.DEBUG)
        assert "Node 'n2' must run: has missing output 'p2'" in debug

    def test_producer_of_an_ephemeral_input_of_a_running_node_runs(self, kind, caplog):
        log: list[tuple[Any, ...]] = []
        store = {"a": 1}
        catalog = make_catalog(
            kind, {name: StoreDataset(name, store, log) for name in ("a", "p2")}
        )
        pipe = Pipeline(
            [node(add_one, "a", "m", name="n1"), node(double, "m", "p2", name="n2")]
        )

        make_runner(kind).run(pipe, catalog, only_missing_outputs=True)

        assert store == {"a": 1, "p2": 4}
        info = messages(caplog, runner_logger(kind), logging.INFO)
        assert "Running 2 out of 2 nodes" in info
        assert not [m for m in info if m.startswith("Skipping")]
        debug = messages(caplog, runner_logger(kind), logging.DEBUG)
        assert "Node 'n1' must run: produces 'm' needed by running child 'n2'" in debug

    def test_undeclared_outputs_are_never_missing(self, kind, caplog):
        store = {"a": 1}
        catalog = make_catalog(kind, {"a": StoreDataset("a", store, [])})
        pipe = Pipeline([node(add_one, "a", "x", name="n1")])

        assert make_runner(kind).run(pipe, catalog, only_missing_outputs=True) == {}
        info = messages(caplog, runner_logger(kind), logging.INFO)
        assert "Skipping all 1 nodes (all persistent outputs exist)" in info

    def test_node_without_outputs_always_runs(self, kind, caplog):
        log: list[tuple[Any, ...]] = []
        catalog = make_catalog(kind, {"a": StoreDataset("a", {"a": 1}, log)})
        pipe = Pipeline([node(sink, "a", None, name="n1")])

        make_runner(kind).run(pipe, catalog, only_missing_outputs=True)

        assert log == [("load", "a")]
        assert "Running 1 out of 1 nodes" in messages(
            caplog, runner_logger(kind), logging.INFO
        )
        assert "Node 'n1' must run: has no outputs" in messages(
            caplog, runner_logger(kind), logging.DEBUG
        )

    def test_filtering_happens_before_the_warm_up(self, kind):
        # 'a' is not in the catalog at all, and 'x' is undeclared: n1 and n2 are
        # skipped, so neither the input check nor the registration sees them.
        store = {"p1": 1}
        catalog = make_catalog(kind, {"p1": StoreDataset("p1", store, [])})
        pipe = Pipeline(
            [node(add_one, "a", "p1", name="n1"), node(double, "p1", "x", name="n2")]
        )

        assert make_runner(kind).run(pipe, catalog, only_missing_outputs=True) == {}
        assert set(catalog.keys()) == {"p1"}

    def test_skipped_nodes_are_listed_sorted(self, caplog):
        store = {"a": 1, "p_b": 1, "p_a": 1}
        catalog = DataCatalog(
            {name: StoreDataset(name, store, []) for name in (*store, "out")}
        )
        pipe = Pipeline(
            [
                node(identity, "a", "p_b", name="zeta"),
                node(identity, "a", "p_a", name="alpha"),
                node(add, ["p_a", "p_b"], "out", name="last"),
            ]
        )
        SequentialRunner().run(pipe, catalog, only_missing_outputs=True)
        info = messages(caplog, runner_logger("sequential"), logging.INFO)
        assert "Skipping 2 nodes with existing outputs: alpha, zeta" in info
        assert "Running 1 out of 3 nodes" in info
        assert store["out"] == 2


# --------------------------------------------------------- resume suggestion


class TestResumeSuggestion:
    def test_nothing_ran(self, kind, caplog):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline(
            [node(fail, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog)
        assert messages(caplog, runner_logger(kind), logging.WARNING) == [NO_NODES_RAN]

    def test_resumes_from_the_nearest_persisted_input(self, kind, caplog):
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline(
            [
                node(add_one, "a", "b", name="n1"),
                node(double, "b", "c", name="n2"),
                node(fail, "c", "d", name="n3"),
            ]
        )
        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog)
        # b and c were in memory: everything must run again.
        assert messages(caplog, runner_logger(kind), logging.WARNING) == [
            RESUME.format(n=1, names="n1")
        ]

    def test_persisted_dataset_shortens_the_resumed_run(self, kind, caplog):
        catalog = make_catalog(
            kind, {"a": MemoryDataset(1), "b": StoreDataset("b", {}, [])}
        )
        pipe = Pipeline(
            [
                node(add_one, "a", "b", name="n1"),
                node(double, "b", "c", name="n2"),
                node(fail, "c", "d", name="n3"),
                node(identity, "d", "e", name="n4"),
            ]
        )
        events: list[Any] = []
        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog, on_event=events.append)
        assert messages(caplog, runner_logger(kind), logging.WARNING) == [
            RESUME.format(n=2, names="n2")
        ]
        # The same hint, for a program: on the run_failed event.
        assert events[-1].kind == "run_failed"
        assert events[-1].resume_from == ("n2",)

    def test_the_run_failed_event_says_when_there_is_nothing_to_resume(self, kind):
        pipe = Pipeline([node(fail, "a", "b", name="n1")])
        failed: list[Any] = []

        def keep(event: Any) -> None:
            if event.kind == "run_failed":
                failed.append(event.resume_from)

        with pytest.raises(NodeFailure):
            make_runner(kind).run(
                pipe, make_catalog(kind, {"a": MemoryDataset(1)}), on_event=keep
            )
        with pytest.raises(ValueError, match="not found"):  # no node failed
            make_runner(kind).run(pipe, make_catalog(kind, {}), on_event=keep)
        assert failed == [(), None]

    def test_several_start_nodes_are_sorted_and_comma_joined(self, kind, caplog):
        store: dict[str, Any] = {}
        catalog = make_catalog(
            kind,
            {
                "a": MemoryDataset(1),
                "b": MemoryDataset(2),
                "pa": StoreDataset("pa", store, []),
                "pb": StoreDataset("pb", store, []),
            },
        )
        pipe = Pipeline(
            [
                node(identity, "a", "pa", name="save_a"),
                node(identity, "b", "pb", name="save_b"),
                node(identity, "pb", "mb", name="y_from_b"),
                node(identity, "pa", "ma", name="x_from_a"),
                node(fail, ["ma", "mb"], "out", name="combine"),
            ]
        )
        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog)
        assert messages(caplog, runner_logger(kind), logging.WARNING) == [
            RESUME.format(n=1, names="x_from_a,y_from_b")
        ]


# ------------------------------------------------------------------ failures


class TestFailures:
    def test_node_exception_propagates_and_on_node_error_fires(self, kind, caplog):
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(fail, "a", "b", name="n1")])

        with pytest.raises(NodeFailure, match=r"^cannot handle 1$") as excinfo:
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value
        assert call.kwargs["inputs"] == {"a": 1}
        assert recorder.trail()[-2:] == [
            ("before_node_run", "n1"),
            ("on_node_error", "n1"),
        ]
        assert messages(caplog, "dagloop.pipeline.node", logging.ERROR) == [
            "Node n1: fail([a]) -> [b] failed with error: \ncannot handle 1"
        ]

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_node_exception_is_the_same_object(self, kind, flavour):
        error = NodeFailure("this very object")

        if flavour == "sync":

            def func(x):
                raise error

        else:

            async def func(x):
                raise error

        # A closure cannot go to a process: run it in a thread under ParallelRunner.
        executor = "thread" if kind == "parallel" and flavour == "sync" else None
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(func, "a", "b", name="n1", executor=executor)])

        with pytest.raises(NodeFailure) as excinfo:
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        assert excinfo.value is error
        assert recorder.of("on_node_error")[0].kwargs["error"] is error

    def test_failing_load_raises_dataset_error_without_on_node_error(
        self, kind, caplog
    ):
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": FailingLoadDataset()})
        pipe = Pipeline([node(identity, "a", "b", name="n1")])

        with pytest.raises(DatasetError, match="the disk is on fire"):
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        assert recorder.trail() == [("before_dataset_loaded", "a")]
        assert messages(caplog, runner_logger(kind), logging.WARNING) == [NO_NODES_RAN]

    def test_result_of_the_wrong_shape_is_a_node_error(self, kind):
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(identity, "a", ["b", "c"], name="n1")])

        with pytest.raises(ValueError, match="returned a 'int'") as excinfo:
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value
        assert recorder.of("before_dataset_saved") == []

    def test_saving_none_is_a_dataset_error_without_on_node_error(self, kind):
        recorder = HookRecorder()
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(sink, "a", "b", name="n1")])

        with pytest.raises(DatasetError) as excinfo:
            make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        assert str(excinfo.value) == "Saving 'None' to a 'Dataset' is not allowed"
        assert recorder.of("on_node_error") == []
        assert recorder.of("after_node_run") != []

    def test_failing_release_raises_the_dataset_error(self, kind):
        # Kedro releases in the runner's own loop: the DatasetError propagates as
        # it is, whatever the runner (never wrapped in an ExceptionGroup).
        catalog = make_catalog(
            kind, {"a": MemoryDataset(1), "b": FailingReleaseDataset()}
        )
        with pytest.raises(DatasetError, match="Failed during release for dataset"):
            make_runner(kind).run(chain_through("b"), catalog)

    def test_no_node_runs_after_a_failure_in_a_chain(self, kind):
        log: list[tuple[Any, ...]] = []
        catalog = make_catalog(
            kind, {"a": MemoryDataset(1), "c": RecordingDataset("c", log)}
        )
        pipe = Pipeline(
            [node(fail, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        with pytest.raises(NodeFailure):
            make_runner(kind).run(pipe, catalog)
        assert log == []


# --------------------------------------------------------------------- logs


class TestLogs:
    def test_completion_messages(self, kind, caplog):
        caplog.set_level(logging.INFO)
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})

        make_runner(kind).run(chain(), catalog)

        info = messages(caplog, runner_logger(kind), logging.INFO)
        progress = [
            m for m in info if m.startswith(("Completed", "Pipeline execution"))
        ]
        assert progress[:4] == [
            "Completed node: n1",
            "Completed 1 out of 2 tasks",
            "Completed node: n2",
            "Completed 2 out of 2 tasks",
        ]
        assert len(progress) == 5
        assert re.fullmatch(
            r"Pipeline execution completed successfully in \d+\.\d sec\.", progress[4]
        )

    def test_running_node_and_catalog_messages(self, kind, caplog):
        caplog.set_level(logging.INFO)
        catalog = make_catalog(kind, {"a": MemoryDataset(1)})
        make_runner(kind).run(chain(), catalog)
        assert messages(caplog, "dagloop.pipeline.node", logging.INFO) == [
            "Running node: n1: add_one([a]) -> [b]",
            "Running node: n2: double([b]) -> [c]",
        ]
        io = messages(caplog, "dagloop.io.data_catalog", logging.INFO)
        assert io[0] == "Loading data from a (MemoryDataset)..."
        assert io[1].startswith("Saving data to b (")

    def test_sync_mode_hint(self, kind, caplog):
        caplog.set_level(logging.INFO)
        make_runner(kind).run(chain(), make_catalog(kind, {"a": MemoryDataset(1)}))
        hints = [
            m
            for m in messages(caplog, runner_logger(kind), logging.INFO)
            if m.startswith(SYNC_MODE)
        ]
        # Kedro's ThreadRunner does not log it; the other two do.
        assert len(hints) == (0 if kind == "thread" else 1)

    def test_empty_run_still_reports_completion(self, kind, caplog):
        caplog.set_level(logging.INFO)
        make_runner(kind).run(Pipeline([]), make_catalog(kind))
        info = messages(caplog, runner_logger(kind), logging.INFO)
        assert [m for m in info if m.startswith("Pipeline execution completed")]
        assert not [m for m in info if m.startswith("Completed")]


# --------------------------------------------------------- generator nodes


class TestGeneratorNodes:
    def test_each_chunk_is_saved_separately_with_its_hooks(self, kind):
        log: list[tuple[Any, ...]] = []
        recorder = HookRecorder()
        catalog = make_catalog(
            kind, {"n": MemoryDataset(3), "chunks": RecordingDataset("chunks", log)}
        )
        pipe = Pipeline([node(count_to, "n", "chunks", name="gen")])

        make_runner(kind).run(pipe, catalog, hook_manager_with(recorder))

        assert log == [
            ("save", "chunks", 0),
            ("save", "chunks", 1),
            ("save", "chunks", 2),
        ]
        saved = [
            (call.hook, call.subject, call.kwargs["data"])
            for call in recorder.calls
            if call.hook.endswith("_saved")
        ]
        assert saved == [
            ("before_dataset_saved", "chunks", 0),
            ("after_dataset_saved", "chunks", 0),
            ("before_dataset_saved", "chunks", 1),
            ("after_dataset_saved", "chunks", 1),
            ("before_dataset_saved", "chunks", 2),
            ("after_dataset_saved", "chunks", 2),
        ]
        assert catalog["chunks"].load() == 2

    def test_several_outputs_are_saved_round_robin(self, kind):
        log: list[tuple[Any, ...]] = []
        catalog = make_catalog(
            kind,
            {
                "n": MemoryDataset(3),
                "left": RecordingDataset("left", log),
                "right": RecordingDataset("right", log),
            },
        )
        pipe = Pipeline([node(pairs, "n", ["left", "right"], name="gen")])

        make_runner(kind).run(pipe, catalog)

        assert log == [
            ("save", "left", 0),
            ("save", "right", 0),
            ("save", "left", 1),
            ("save", "right", 10),
            ("save", "left", 2),
            ("save", "right", 20),
        ]


# ------------------------------------------------------------------ confirms


def test_confirms_calls_confirm_after_the_outputs_are_saved(kind, caplog):
    caplog.set_level(logging.INFO)
    log: list[tuple[Any, ...]] = []
    store: dict[str, Any] = {}
    catalog = make_catalog(
        kind,
        {
            "a": MemoryDataset(1),
            "b": StoreDataset("b", store, log),
            "ledger": StoreDataset("ledger", store, log),
        },
    )
    pipe = Pipeline([node(add_one, "a", "b", name="n1", confirms="ledger")])

    make_runner(kind).run(pipe, catalog)

    assert log == [("save", "b", 2), ("confirm", "ledger")]
    assert "Confirming dataset 'ledger'" in messages(
        caplog, "dagloop.io.data_catalog", logging.INFO
    )


# ------------------------------------------------------------------ is_async


class BarrierDataset(MemoryDataset):
    """Loads and saves wait at a shared barrier: they pass only when overlapping."""

    _INLINE_IO = False

    def __init__(self, barrier: threading.Barrier, **kwargs: Any) -> None:
        self.barrier: threading.Barrier | None = None  # not for the initial data
        super().__init__(**kwargs)
        self.barrier = barrier

    def load(self) -> Any:
        if self.barrier is not None:
            self.barrier.wait()
        return super().load()

    def save(self, data: Any) -> None:
        if self.barrier is not None:
            self.barrier.wait()
        super().save(data)


def split_in_two(x: int) -> tuple[int, int]:
    return x, x + 1


class FailingSaveDataset(MemoryDataset):
    def save(self, data: Any) -> None:
        raise OSError("no space left on device")


class TestIsAsync:
    @pytest.fixture(params=["sequential", "parallel"])
    def async_kind(self, request: pytest.FixtureRequest) -> str:
        return request.param

    def test_logs_asynchronous_mode(self, async_kind, caplog):
        caplog.set_level(logging.INFO)
        runner = make_runner(async_kind, is_async=True)
        runner.run(chain(), make_catalog(async_kind, {"a": MemoryDataset(1)}))
        info = messages(caplog, runner_logger(async_kind), logging.INFO)
        assert ASYNC_MODE in info
        assert not [m for m in info if m.startswith(SYNC_MODE)]

    def test_no_asynchronous_mode_message_by_default(self, kind, caplog):
        caplog.set_level(logging.INFO)
        make_runner(kind).run(chain(), make_catalog(kind, {"a": MemoryDataset(1)}))
        assert ASYNC_MODE not in messages(caplog, runner_logger(kind), logging.INFO)

    def test_inputs_are_loaded_concurrently(self, async_kind):
        # Each load waits until the other one has started: both must be in flight.
        barrier = threading.Barrier(2, timeout=20)
        catalog = make_catalog(
            async_kind,
            {
                "a": BarrierDataset(barrier, data=1),
                "b": BarrierDataset(barrier, data=2),
            },
        )
        pipe = Pipeline([node(add, ["a", "b"], "c", name="n1")])

        result = make_runner(async_kind, is_async=True).run(pipe, catalog)

        assert result["c"].load() == 3

    def test_outputs_are_saved_concurrently(self, async_kind):
        barrier = threading.Barrier(2, timeout=20)
        catalog = make_catalog(
            async_kind,
            {
                "a": MemoryDataset(1),
                "left": BarrierDataset(barrier),
                "right": BarrierDataset(barrier),
            },
        )
        pipe = Pipeline([node(split_in_two, "a", ["left", "right"], name="n1")])

        result = make_runner(async_kind, is_async=True).run(pipe, catalog)

        for name in ("left", "right"):
            result[name].barrier = None
        assert (result["left"].load(), result["right"].load()) == (1, 2)

    def test_hooks_are_told_the_node_runs_asynchronously(self, async_kind):
        recorder = HookRecorder()
        catalog = make_catalog(async_kind, {"a": MemoryDataset(1)})
        make_runner(async_kind, is_async=True).run(
            chain(), catalog, hook_manager_with(recorder)
        )
        assert {call.kwargs["is_async"] for call in recorder.of("before_node_run")} == {
            True
        }

    def test_before_dataset_saved_fires_for_every_output_before_any_save_ends(
        self, async_kind
    ):
        # Kedro calls before_dataset_saved for each output as it submits the save,
        # then after_dataset_saved as the saves complete.
        recorder = HookRecorder()
        catalog = make_catalog(async_kind, {"a": MemoryDataset(1)})
        pipe = Pipeline([node(split_in_two, "a", ["left", "right"], name="n1")])

        make_runner(async_kind, is_async=True).run(
            pipe, catalog, hook_manager_with(recorder)
        )

        saves = [call.hook for call in recorder.calls if call.hook.endswith("_saved")]
        assert saves == [
            "before_dataset_saved",
            "before_dataset_saved",
            "after_dataset_saved",
            "after_dataset_saved",
        ]
        assert {c.subject for c in recorder.of("after_dataset_saved")} == {
            "left",
            "right",
        }

    def test_failing_load_raises_the_dataset_error(self, async_kind):
        catalog = make_catalog(
            async_kind, {"a": MemoryDataset(1), "b": FailingLoadDataset()}
        )
        pipe = Pipeline([node(add, ["a", "b"], "c", name="n1")])

        with pytest.raises(DatasetError, match="the disk is on fire") as excinfo:
            make_runner(async_kind, is_async=True).run(pipe, catalog)
        assert not isinstance(excinfo.value, BaseExceptionGroup)

    def test_failing_save_raises_the_dataset_error(self, async_kind):
        catalog = make_catalog(
            async_kind, {"a": MemoryDataset(1), "left": FailingSaveDataset()}
        )
        pipe = Pipeline([node(split_in_two, "a", ["left", "right"], name="n1")])

        with pytest.raises(DatasetError, match="no space left") as excinfo:
            make_runner(async_kind, is_async=True).run(pipe, catalog)
        assert not isinstance(excinfo.value, BaseExceptionGroup)

    def test_generator_node_is_rejected(self, async_kind):
        log: list[tuple[Any, ...]] = []
        catalog = make_catalog(async_kind, {"n": RecordingDataset("n", log, data=3)})
        gen = node(count_to, "n", "chunks", name="gen")
        expected = (
            "Async data loading and saving does not work with nodes wrapping "
            "generator functions. Please make sure you don't use `yield` anywhere "
            f"in node {gen!s}."
        )

        with pytest.raises(ValueError, match=re.escape(expected)):
            make_runner(async_kind, is_async=True).run(Pipeline([gen]), catalog)
        assert log == []

    def test_thread_runner_warns_and_runs_synchronously(self, caplog):
        caplog.set_level(logging.INFO)
        expected = (
            "'ThreadRunner' doesn't support loading and saving the node inputs and "
            "outputs asynchronously with threads. Setting 'is_async' to False."
        )
        with pytest.warns(UserWarning, match=re.escape(expected)):
            runner = ThreadRunner(is_async=True)

        recorder = HookRecorder()
        catalog = DataCatalog({"a": MemoryDataset(1)})
        runner.run(chain(), catalog, hook_manager_with(recorder))

        assert ASYNC_MODE not in messages(caplog, runner_logger("thread"), logging.INFO)
        assert {call.kwargs["is_async"] for call in recorder.of("before_node_run")} == {
            False
        }


# --------------------------------------------------------------- max_workers


class TestConstructors:
    def test_positional_arguments_follow_kedro(self):
        assert SequentialRunner(True)._is_async is True
        assert ThreadRunner(3)._max_workers == 3
        parallel = ParallelRunner(3, True)
        assert (parallel._max_workers, parallel._is_async) == (3, True)

    def test_run_takes_kedros_arguments_positionally(self, kind, caplog):
        caplog.set_level(logging.INFO)
        recorder = HookRecorder()
        store = {"a": 1, "b": 2}
        catalog = make_catalog(
            kind, {name: StoreDataset(name, store, []) for name in ("a", "b")}
        )
        pipe = Pipeline([node(add_one, "a", "b", name="n1")])

        result = make_runner(kind).run(
            pipe, catalog, hook_manager_with(recorder), "run-1", True
        )

        assert result == {}
        assert recorder.calls == []
        assert "Skipping all 1 nodes (all persistent outputs exist)" in messages(
            caplog, runner_logger(kind), logging.INFO
        )


class TestMaxWorkers:
    @pytest.mark.parametrize("runner_class", [ThreadRunner, ParallelRunner])
    @pytest.mark.parametrize("max_workers", [0, -1])
    def test_must_be_positive(self, runner_class, max_workers):
        with pytest.raises(ValueError, match=r"^max_workers should be positive$"):
            runner_class(max_workers=max_workers)

    def test_default_is_the_cpu_count(self):
        assert ThreadRunner._validate_max_workers(None) == (os.cpu_count() or 1)
        assert ThreadRunner._validate_max_workers(3) == 3

    @pytest.mark.parametrize("runner_class", [ThreadRunner, ParallelRunner])
    @pytest.mark.parametrize(("max_workers", "expected"), [(2, 2), (8, 3), (1, 1)])
    def test_required_workers_is_nodes_minus_layers_plus_one(
        self, runner_class, max_workers, expected
    ):
        # 4 nodes in 2 layers: at most 3 can be useful at once.
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1"),
                node(identity, "a", "c", name="n2"),
                node(identity, "a", "d", name="n3"),
                node(add, ["b", "c"], "e", name="n4"),
            ]
        )
        runner = runner_class(max_workers=max_workers)
        assert runner._get_required_workers_count(pipe) == expected

    def test_sequential_runner_needs_one_worker(self):
        assert SequentialRunner()._get_required_workers_count(chain()) == 1

    @pytest.mark.parametrize("value", [0, -2])
    def test_max_concurrency_must_be_positive(self, kind, value):
        with pytest.raises(
            ValueError, match="max_concurrency should be a positive int"
        ):
            make_runner(kind, max_concurrency=value)


# ------------------------------------------------------------ module helpers


class TestPlanningHelpers:
    @pytest.fixture
    def catalog(self) -> DataCatalog:
        store = {"persisted_there": 1}
        return DataCatalog(
            {
                "memory": MemoryDataset(1),
                "persisted_there": StoreDataset("persisted_there", store, []),
                "persisted_missing": StoreDataset("persisted_missing", store, []),
            }
        )

    @pytest.fixture
    def pipe(self) -> Pipeline:
        r"""
        a -> n1 -> b -> n2 -> persisted_missing -> n3 -> c
                            \-> n4 -> d
        """
        return Pipeline(
            [
                node(identity, "a", "b", name="n1"),
                node(identity, "b", "persisted_missing", name="n2"),
                node(identity, "persisted_missing", "c", name="n3"),
                node(identity, "b", "d", name="n4"),
            ]
        )

    @staticmethod
    def by_name(pipe: Pipeline, *names: str) -> list[Any]:
        nodes = {n.name: n for n in pipe.nodes}
        return [nodes[name] for name in names]

    def test_non_persistent_inputs(self, catalog):
        n = node(
            add,
            {
                "a": "memory",
                "b": "persisted_there",
            },
            "out",
        )
        assert _enumerate_non_persistent_inputs(n, catalog) == {"memory"}
        n = node(
            lambda p, u, q: p,
            ["params:x", "undeclared", "persisted_missing"],
            "out",
        )
        assert _enumerate_non_persistent_inputs(n, catalog) == {"undeclared"}

    def test_nodes_with_outputs(self, pipe):
        assert _enumerate_nodes_with_outputs(pipe, ["b", "d"]) == self.by_name(
            pipe, "n1", "n4"
        )
        assert _enumerate_nodes_with_outputs(pipe, []) == []

    def test_nodes_with_external_inputs(self, pipe):
        n2, n3, n4 = self.by_name(pipe, "n2", "n3", "n4")
        # In {n2, n3, n4}, 'b' is external (read by n2 and n4); n3 reads n2's output.
        assert _nodes_with_external_inputs([n2, n3, n4]) == {n2, n4}

    def test_initial_node_group(self, pipe):
        n2, n3, n4 = self.by_name(pipe, "n2", "n3", "n4")
        assert _find_initial_node_group(pipe, []) == []
        assert _find_initial_node_group(pipe, [n3, n2, n4]) == [n2, n4]
        assert _find_initial_node_group(pipe, [n3]) == [n3]

    def test_all_nodes_for_resumed_pipeline(self, pipe, catalog):
        n1, n2, n3, n4 = self.by_name(pipe, "n1", "n2", "n3", "n4")
        # n3 reads a persistent dataset: nothing upstream reruns.
        assert _find_all_nodes_for_resumed_pipeline(pipe, [n3], catalog) == {n3}
        # n4 reads 'b', undeclared (memory): n1 must rerun, and all downstream.
        assert _find_all_nodes_for_resumed_pipeline(pipe, [n4], catalog) == {
            n1,
            n2,
            n3,
            n4,
        }

    def test_nodes_to_resume_from(self, pipe, catalog):
        n3, n4 = self.by_name(pipe, "n3", "n4")
        assert _find_nodes_to_resume_from(pipe, [n3], catalog) == {"n3"}
        assert _find_nodes_to_resume_from(pipe, [n4], catalog) == {"n1"}
        assert _find_nodes_to_resume_from(pipe, [], catalog) == set()

    def test_children_map_uses_exact_names(self):
        producer = node(identity, "a", "ds@x", name="producer")
        consumer = node(identity, "ds@y", "c", name="consumer")
        reader = node(identity, "c", "d", name="reader")
        pipe = Pipeline([producer, consumer, reader])
        assert _build_node_children_map(pipe) == {
            producer: set(),
            consumer: {reader},
            reader: set(),
        }

    def test_dataset_state_predicates(self, catalog):
        # Undeclared: a future memory dataset.
        assert _is_persistent_dataset_missing("undeclared", catalog) is False
        assert _is_dataset_ephemeral_or_missing("undeclared", catalog) is True
        # In memory.
        assert _is_persistent_dataset_missing("memory", catalog) is False
        assert _is_dataset_ephemeral_or_missing("memory", catalog) is True
        # Persistent and present.
        assert _is_persistent_dataset_missing("persisted_there", catalog) is False
        assert _is_dataset_ephemeral_or_missing("persisted_there", catalog) is False
        # Persistent and absent.
        assert _is_persistent_dataset_missing("persisted_missing", catalog) is True
        assert _is_dataset_ephemeral_or_missing("persisted_missing", catalog) is True

    def test_nodes_to_run(self, pipe, catalog):
        logger = logging.getLogger("test.planning")
        n1, n2, n3, n4 = self.by_name(pipe, "n1", "n2", "n3", "n4")
        children = _build_node_children_map(pipe)
        assert children[n1] == {n2, n4}

        assert _has_missing_persistent_outputs(n2, catalog, logger) is True
        assert _has_missing_persistent_outputs(n1, catalog, logger) is False
        # n1 feeds 'b' (undeclared) to n2, which runs.
        assert _outputs_needed_by_children(n1, catalog, {n2}, children, logger)
        assert not _outputs_needed_by_children(n1, catalog, set(), children, logger)
        assert _should_node_run(n2, catalog, set(), children, logger) is True
        assert _should_node_run(n3, catalog, set(), children, logger) is False

        ordered = list(reversed(pipe.nodes))
        assert _determine_nodes_to_run(ordered, catalog, children, logger) == {n1, n2}
