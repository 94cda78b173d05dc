"""Node and dataset hooks as the runners call them (spec section 3.10).

Hook order, ``before_node_run`` input overrides, what each hook receives, hooks in
every runner (for ``ParallelRunner`` in the parent process), Kedro-marked hook
classes, and the thread hooks run in under ``run()`` and ``arun()``.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import pytest
from kedro.framework.hooks import _create_hook_manager as kedro_hook_manager
from kedro.framework.hooks import hook_impl as kedro_hook_impl

from dagloop.framework.hooks import _create_hook_manager, hook_impl
from dagloop.framework.hooks.manager import _register_hooks
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.runner._nodes import (
    RUNNER_KINDS,
    HookRecorder,
    NodeFailure,
    add,
    add_one,
    current_pid,
    double,
    fail,
    hook_manager_with,
    make_catalog,
    make_runner,
)

BEFORE_NODE_RUN_TYPE_ERROR = (
    "'before_node_run' must return either None or a dictionary mapping dataset "
    "names to updated values, got '{}' instead."
)


def two_nodes() -> Pipeline:
    """n1: (a, b) -> c; n2: c -> d"""
    return Pipeline(
        [node(add, ["a", "b"], "c", name="n1"), node(double, "c", "d", name="n2")]
    )


def inputs_catalog(kind: str = "sequential") -> DataCatalog:
    return make_catalog(kind, {"a": MemoryDataset(1), "b": MemoryDataset(2)})


EXPECTED_TRAIL = [
    ("before_dataset_loaded", "a"),
    ("after_dataset_loaded", "a"),
    ("before_dataset_loaded", "b"),
    ("after_dataset_loaded", "b"),
    ("before_node_run", "n1"),
    ("after_node_run", "n1"),
    ("before_dataset_saved", "c"),
    ("after_dataset_saved", "c"),
    ("before_dataset_loaded", "c"),
    ("after_dataset_loaded", "c"),
    ("before_node_run", "n2"),
    ("after_node_run", "n2"),
    ("before_dataset_saved", "d"),
    ("after_dataset_saved", "d"),
]


# -------------------------------------------------------------------- order


class TestOrder:
    def test_two_node_sequential_run(self):
        recorder = HookRecorder()
        SequentialRunner().run(
            two_nodes(), inputs_catalog(), hook_manager_with(recorder)
        )
        assert recorder.trail() == EXPECTED_TRAIL

    def test_failing_node(self):
        recorder = HookRecorder()
        pipe = Pipeline(
            [node(fail, "a", "c", name="n1"), node(double, "c", "d", name="n2")]
        )
        with pytest.raises(NodeFailure):
            SequentialRunner().run(pipe, inputs_catalog(), hook_manager_with(recorder))
        assert recorder.trail() == [
            ("before_dataset_loaded", "a"),
            ("after_dataset_loaded", "a"),
            ("before_node_run", "n1"),
            ("on_node_error", "n1"),
        ]

    def test_hooks_fire_in_every_runner(self, kind):
        recorder = HookRecorder()
        make_runner(kind).run(
            two_nodes(), inputs_catalog(kind), hook_manager_with(recorder)
        )
        # A chain: the order is the same whatever the runner.
        assert recorder.trail() == EXPECTED_TRAIL

    def test_on_node_error_fires_in_every_runner(self, kind):
        recorder = HookRecorder()
        pipe = Pipeline([node(fail, "a", "c", name="n1")])
        with pytest.raises(NodeFailure) as excinfo:
            make_runner(kind).run(
                pipe, inputs_catalog(kind), hook_manager_with(recorder)
            )
        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value


@pytest.fixture(params=RUNNER_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


# --------------------------------------------------------------- arguments


class TestArguments:
    def test_dataset_hooks_get_names_data_and_node(self):
        recorder = HookRecorder()
        pipe = two_nodes()
        SequentialRunner().run(pipe, inputs_catalog(), hook_manager_with(recorder))
        n1, n2 = pipe.nodes
        loaded = [
            (c.subject, c.kwargs["data"], c.kwargs["node"])
            for c in recorder.of("after_dataset_loaded")
        ]
        assert loaded == [("a", 1, n1), ("b", 2, n1), ("c", 3, n2)]
        saved = [
            (c.subject, c.kwargs["data"], c.kwargs["node"])
            for c in recorder.of("before_dataset_saved")
        ]
        assert saved == [("c", 3, n1), ("d", 6, n2)]
        assert [c.kwargs["node"] for c in recorder.of("before_dataset_loaded")] == [
            n1,
            n1,
            n2,
        ]

    def test_node_hooks_get_catalog_inputs_outputs_and_run_id(self):
        recorder = HookRecorder()
        catalog = inputs_catalog()
        SequentialRunner().run(
            two_nodes(), catalog, hook_manager_with(recorder), run_id="run-42"
        )
        before = recorder.of("before_node_run")
        assert [c.kwargs["inputs"] for c in before] == [{"a": 1, "b": 2}, {"c": 3}]
        after = recorder.of("after_node_run")
        assert [(c.kwargs["inputs"], c.kwargs["outputs"]) for c in after] == [
            ({"a": 1, "b": 2}, {"c": 3}),
            ({"c": 3}, {"d": 6}),
        ]
        for call in before + after:
            assert call.kwargs["catalog"] is catalog
            assert call.kwargs["run_id"] == "run-42"
            assert call.kwargs["is_async"] is False

    def test_on_node_error_gets_the_error_and_inputs(self):
        recorder = HookRecorder()
        catalog = inputs_catalog()
        pipe = Pipeline([node(fail, ["a", "b"], "c", name="n1")])
        with pytest.raises(NodeFailure) as excinfo:
            SequentialRunner().run(
                pipe, catalog, hook_manager_with(recorder), run_id="run-7"
            )
        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value
        assert call.kwargs["inputs"] == {"a": 1, "b": 2}
        assert call.kwargs["catalog"] is catalog
        assert call.kwargs["run_id"] == "run-7"
        assert call.kwargs["is_async"] is False


# ------------------------------------------------- before_node_run overrides


class ReplaceInput:
    def __init__(self, **replacements: Any) -> None:
        self.replacements = replacements

    @hook_impl
    def before_node_run(self, node, inputs):
        if node.name == "n1":
            return dict(self.replacements)
        return None


class ReturnValue:
    def __init__(self, value: Any) -> None:
        self.value = value

    @hook_impl
    def before_node_run(self):
        return self.value


class MutateInputs:
    @hook_impl
    def before_node_run(self, inputs):
        inputs["a"] = 1000
        inputs["b"] = 2000


class TestBeforeNodeRunOverrides:
    def test_returned_dict_replaces_inputs(self, kind):
        recorder = HookRecorder()
        catalog = inputs_catalog(kind)
        manager = hook_manager_with(ReplaceInput(a=100), recorder)

        result = make_runner(kind).run(two_nodes(), catalog, manager)

        assert result["d"].load() == 204
        # The loaded dataset is unchanged; after_node_run sees the override.
        assert catalog["a"].load() == 1
        assert recorder.of("after_node_run")[0].kwargs["inputs"] == {"a": 100, "b": 2}

    def test_dicts_of_several_implementations_are_merged(self):
        manager = hook_manager_with(ReplaceInput(a=10), ReplaceInput(b=20))
        result = SequentialRunner().run(two_nodes(), inputs_catalog(), manager)
        assert result["d"].load() == 60

    def test_none_keeps_the_loaded_inputs(self):
        manager = hook_manager_with(ReturnValue(None))
        result = SequentialRunner().run(two_nodes(), inputs_catalog(), manager)
        assert result["d"].load() == 6

    def test_hooks_get_a_copy_of_the_inputs(self):
        manager = hook_manager_with(MutateInputs())
        result = SequentialRunner().run(two_nodes(), inputs_catalog(), manager)
        assert result["d"].load() == 6

    def test_unknown_input_from_a_hook_is_a_node_error(self, kind):
        # The inputs no longer match the node: Node.run raises, inside the part
        # of the task that reports node errors to on_node_error.
        recorder = HookRecorder()
        manager = hook_manager_with(ReplaceInput(extra=1), recorder)

        with pytest.raises(ValueError, match="expected 2 input") as excinfo:
            make_runner(kind).run(two_nodes(), inputs_catalog(kind), manager)

        [call] = recorder.of("on_node_error")
        assert call.kwargs["error"] is excinfo.value
        assert call.kwargs["inputs"] == {"a": 1, "b": 2, "extra": 1}

    @pytest.mark.parametrize(
        ("value", "type_name"), [(["a"], "list"), ("a", "str"), (3, "int")]
    )
    def test_non_dict_raises_type_error(self, kind, value, type_name):
        recorder = HookRecorder()
        catalog = inputs_catalog(kind)
        manager = hook_manager_with(ReturnValue(value), recorder)

        with pytest.raises(
            TypeError, match=re.escape(BEFORE_NODE_RUN_TYPE_ERROR.format(type_name))
        ):
            make_runner(kind).run(two_nodes(), catalog, manager)

        # The node never ran.
        assert recorder.of("after_node_run") == []
        assert recorder.of("before_dataset_saved") == []


# ------------------------------------------------------ hooks and processes


class TestProcessNodes:
    def test_dataset_and_node_hooks_run_in_the_parent(self):
        recorder = HookRecorder()
        catalog = make_catalog("parallel", {"a": MemoryDataset(1)})
        pipe = Pipeline([node(current_pid, "a", "worker_pid", name="n1")])

        result = ParallelRunner().run(pipe, catalog, hook_manager_with(recorder))

        worker_pid = result["worker_pid"].load()
        assert worker_pid != os.getpid()
        assert recorder.trail() == [
            ("before_dataset_loaded", "a"),
            ("after_dataset_loaded", "a"),
            ("before_node_run", "n1"),
            ("after_node_run", "n1"),
            ("before_dataset_saved", "worker_pid"),
            ("after_dataset_saved", "worker_pid"),
        ]
        assert {call.pid for call in recorder.calls} == {os.getpid()}
        assert recorder.of("after_dataset_loaded")[0].kwargs["data"] == 1
        assert recorder.of("after_node_run")[0].kwargs["outputs"] == {
            "worker_pid": worker_pid
        }
        assert recorder.of("after_dataset_saved")[0].kwargs["data"] == worker_pid

    def test_executor_process_node_hooks_run_in_the_parent(self):
        recorder = HookRecorder()
        pipe = Pipeline(
            [node(current_pid, "a", "worker_pid", name="n1", executor="process")]
        )
        result = SequentialRunner().run(
            pipe, DataCatalog({"a": MemoryDataset(1)}), hook_manager_with(recorder)
        )
        assert result["worker_pid"].load() != os.getpid()
        assert len(recorder.calls) == 6
        assert {call.pid for call in recorder.calls} == {os.getpid()}


# ------------------------------------------------------------ Kedro's hooks


class KedroMarkedHooks:
    """A hook class written for Kedro, accepting subsets of the arguments."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @kedro_hook_impl
    def before_node_run(self, node, inputs):
        self.seen.append(("before_node_run", node.name))
        return {"a": inputs["a"] * 10} if "a" in inputs else None

    @kedro_hook_impl
    def after_dataset_saved(self, dataset_name, data):
        self.seen.append(("after_dataset_saved", (dataset_name, data)))


class TestKedroMarkedHooks:
    def test_called_through_a_dagloop_hook_manager(self, kind):
        hooks = KedroMarkedHooks()
        manager = _create_hook_manager()
        manager.register(hooks)

        result = make_runner(kind).run(two_nodes(), inputs_catalog(kind), manager)

        assert result["d"].load() == 24
        assert hooks.seen == [
            ("before_node_run", "n1"),
            ("after_dataset_saved", ("c", 12)),
            ("before_node_run", "n2"),
            ("after_dataset_saved", ("d", 24)),
        ]

    def test_called_through_a_kedro_hook_manager(self):
        hooks = KedroMarkedHooks()
        manager = kedro_hook_manager()
        manager.register(hooks)

        result = SequentialRunner().run(two_nodes(), inputs_catalog(), manager)

        assert result["d"].load() == 24
        assert ("after_dataset_saved", ("d", 24)) in hooks.seen


# ------------------------------------------------------------ registration


class TestRegisterHooks:
    def test_rejects_classes(self):
        manager = _create_hook_manager()
        with pytest.raises(
            TypeError,
            match=re.escape(
                "KedroSession expects hooks to be registered as instances. "
                "Have you forgotten the `()` when registering a hook class ?"
            ),
        ):
            _register_hooks(manager, [HookRecorder])

    def test_registers_instances_once(self):
        manager = _create_hook_manager()
        recorder = HookRecorder()
        _register_hooks(manager, [recorder, recorder])
        _register_hooks(manager, [recorder])
        assert manager.is_registered(recorder)
        SequentialRunner().run(
            Pipeline([node(add_one, "a", "b", name="n1")]),
            DataCatalog({"a": MemoryDataset(1)}),
            manager,
        )
        assert len(recorder.of("before_node_run")) == 1


# ----------------------------------------------------------------- threads


async def loop_thread(x: Any) -> int:
    """An async node: runs on the event loop, so it reports the loop's thread."""
    return threading.get_ident()


def thread_probe_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(loop_thread, "a", "loop", name="on_loop"),
            node(add_one, "a", "b", name="sync"),
        ]
    )


class TestHookThreads:
    @pytest.mark.parametrize(
        "runner_class", [SequentialRunner, ThreadRunner, ParallelRunner]
    )
    def test_run_calls_hooks_on_the_loop_thread(self, runner_class):
        recorder = HookRecorder()
        catalog = make_catalog(
            "parallel" if runner_class is ParallelRunner else "sequential",
            {"a": MemoryDataset(1)},
        )

        result = runner_class().run(
            thread_probe_pipeline(), catalog, hook_manager_with(recorder)
        )

        loop = result["loop"].load()
        # No loop was running here: run() ran one in this very thread.
        assert loop == threading.get_ident()
        assert len(recorder.calls) == 12
        assert {call.thread for call in recorder.calls} == {loop}

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "runner_class", [SequentialRunner, ThreadRunner, ParallelRunner]
    )
    async def test_arun_calls_hooks_off_the_loop_thread(self, runner_class):
        recorder = HookRecorder()
        catalog = make_catalog(
            "parallel" if runner_class is ParallelRunner else "sequential",
            {"a": MemoryDataset(1)},
        )

        result = await runner_class().arun(
            thread_probe_pipeline(), catalog, hook_manager_with(recorder)
        )

        loop = result["loop"].load()
        assert loop == threading.get_ident()
        assert len(recorder.calls) == 12
        assert loop not in {call.thread for call in recorder.calls}
