"""Bad input is rejected before any node runs, with a message that names the
culprit and says how to fix it.

Pipelines that could run partly include a recording node that would run first;
each test asserts it never ran. Definition-time errors (a node, a runner, a
pipeline that cannot be built) are raised before there is anything to run.
Each message is checked for the culprit (the node, dataset, parameter or value)
and for the fix (what to use instead).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import anyio
import pytest

from dagloop.io import MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.pipeline.pipeline import CircularDependencyError, OutputNotUniqueError
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.runner._nodes import RUNNER_KINDS, identity, make_catalog, make_runner

GUARD = 30


def full_message(error: BaseException) -> str:
    """The message and any notes, as the user reads them."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


class Recorder:
    """A node that would run first in any runner (it needs nothing), recording."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def node(self) -> Any:
        def first(x: Any) -> Any:
            self.ran.append("first")
            return x

        # "thread": never pickled, so it is no culprit of its own.
        return node(first, "a", "first_out", name="first", executor="thread")

    def catalog(self, runner_kind: str, **datasets: Any) -> Any:
        return make_catalog(runner_kind, {"a": MemoryDataset(1), **datasets})


# --------------------------------------------------------------- pipelines


class TestPipelineShape:
    def test_a_cycle_is_rejected_naming_its_nodes(self):
        with pytest.raises(CircularDependencyError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "b", name="upstream"),
                    node(identity, "b", "c", name="middle"),
                    node(identity, "c", "a", name="back_to_a"),
                ]
            )
        message = full_message(excinfo.value)
        for name in ("upstream", "middle", "back_to_a"):
            assert name in message

    def test_a_cycle_message_names_the_fix(self):
        with pytest.raises(CircularDependencyError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "b", name="upstream"),
                    node(identity, "b", "a", name="back_to_a"),
                ]
            )
        message = full_message(excinfo.value)
        assert re.search(r"\b(break|remove|rename|change)\b", message, re.I), message

    def test_duplicate_outputs_are_rejected_naming_the_dataset_and_the_fix(self):
        with pytest.raises(OutputNotUniqueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "shared", name="one"),
                    node(identity, "b", "shared", name="two"),
                ]
            )
        message = full_message(excinfo.value)
        assert "'shared'" in message
        assert "must be unique" in message

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_missing_inputs_are_rejected_before_any_node_runs(self, runner_kind):
        recorder = Recorder()
        pipe = Pipeline(
            [recorder.node(), node(identity, "not_in_catalog", "b", name="needs_it")]
        )
        with pytest.raises(ValueError, match="not_in_catalog") as excinfo:
            make_runner(runner_kind).run(pipe, recorder.catalog(runner_kind))
        assert recorder.ran == []
        assert "catalog" in full_message(excinfo.value).lower()

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun_rejects_missing_inputs_before_any_node_runs(self, runner_kind):
        recorder = Recorder()
        pipe = Pipeline(
            [recorder.node(), node(identity, "not_in_catalog", "b", name="needs_it")]
        )
        with anyio.fail_after(GUARD), pytest.raises(ValueError, match="not_in_catalog"):
            await make_runner(runner_kind).arun(pipe, recorder.catalog(runner_kind))
        assert recorder.ran == []

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_missing_inputs_leave_the_catalog_untouched(self, runner_kind):
        # As in Kedro: the check comes before undeclared datasets are registered.
        recorder = Recorder()
        pipe = Pipeline(
            [recorder.node(), node(identity, "not_in_catalog", "b", name="needs_it")]
        )
        catalog = recorder.catalog(runner_kind)
        before = sorted(catalog.keys())
        with pytest.raises(ValueError, match="not_in_catalog"):
            make_runner(runner_kind).run(pipe, catalog)
        assert sorted(catalog.keys()) == before

    def test_missing_inputs_message_names_the_fix(self):
        recorder = Recorder()
        pipe = Pipeline([node(identity, "not_in_catalog", "b", name="needs_it")])
        with pytest.raises(ValueError) as excinfo:
            SequentialRunner().run(pipe, recorder.catalog("sequential"))
        message = full_message(excinfo.value)
        # How to fix it: put the dataset in the catalog (or produce it upstream).
        assert re.search(r"\b(add|declare|define|register|provide)\b", message, re.I), (
            message
        )


# ------------------------------------------------- functions for processes


def make_closure() -> Any:
    offset = 1

    def closure(x: Any) -> Any:
        return x + offset

    return closure


def make_partial_of_closure() -> Any:
    def add(offset: Any, x: Any) -> Any:
        return x + offset

    # Named like the closure (as Kedro's warning about partials advises).
    return functools.update_wrapper(functools.partial(add, 1), add)


UNPICKLABLE = {
    "lambda": lambda x: x,
    "closure": make_closure(),
    "partial_of_closure": make_partial_of_closure(),
}


class TestFunctionsThatCannotReachAProcess:
    @pytest.mark.parametrize("func", list(UNPICKLABLE))
    def test_parallel_runner_rejects_them_before_any_node_runs(self, func):
        recorder = Recorder()
        pipe = Pipeline(
            [recorder.node(), node(UNPICKLABLE[func], "a", "b", name="culprit")]
        )
        with pytest.raises(AttributeError) as excinfo:
            ParallelRunner().run(pipe, recorder.catalog("parallel"))
        assert recorder.ran == []
        message = full_message(excinfo.value)
        assert "culprit" in message
        assert "first" not in message  # only the node that cannot go is named
        assert "should not include lambda functions, nested functions" in message

    @pytest.mark.parametrize("func", list(UNPICKLABLE))
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_executor_process_on_any_runner_is_rejected_before_any_node_runs(
        self, runner_kind, func
    ):
        recorder = Recorder()
        pipe = Pipeline(
            [
                recorder.node(),
                node(UNPICKLABLE[func], "a", "b", name="culprit", executor="process"),
            ]
        )
        with pytest.raises(AttributeError) as excinfo:
            make_runner(runner_kind).run(pipe, recorder.catalog(runner_kind))
        assert recorder.ran == []
        assert "culprit" in full_message(excinfo.value)
        assert "serialis" in full_message(excinfo.value)

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun_rejects_them_too(self, runner_kind):
        recorder = Recorder()
        pipe = Pipeline(
            [
                recorder.node(),
                node(make_closure(), "a", "b", name="culprit", executor="process"),
            ]
        )
        with anyio.fail_after(GUARD), pytest.raises(AttributeError, match="culprit"):
            await make_runner(runner_kind).arun(pipe, recorder.catalog(runner_kind))
        assert recorder.ran == []


# ------------------------------------------------------------------ runners


class TestRunnerSettings:
    @pytest.mark.parametrize("max_workers", [0, -1])
    @pytest.mark.parametrize("runner_class", [ThreadRunner, ParallelRunner])
    def test_max_workers_must_be_positive(self, runner_class, max_workers):
        with pytest.raises(ValueError) as excinfo:
            runner_class(max_workers=max_workers)
        message = full_message(excinfo.value)
        assert "max_workers" in message
        assert "positive" in message

    @pytest.mark.parametrize(
        ("limits", "culprit"),
        [
            ({"api": 0}, "api"),
            ({"api": -2}, "api"),
            ({"api": 1.5}, "api"),
            ({"api": "2"}, "api"),
            (["api"], "limits"),
        ],
    )
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_invalid_limits(self, runner_kind, limits, culprit):
        with pytest.raises((ValueError, TypeError)) as excinfo:
            make_runner(runner_kind, limits=limits)
        message = full_message(excinfo.value)
        assert culprit in message
        assert re.search(r"positive int|mapping|dict", message), message

    @pytest.mark.parametrize("max_concurrency", [0, -1, 1.5])
    def test_invalid_max_concurrency(self, max_concurrency):
        """Rejected when the runner is made, or at the latest before any node."""
        recorder = Recorder()
        pipe = Pipeline([recorder.node()])
        with pytest.raises((ValueError, TypeError)) as excinfo:
            ThreadRunner(max_concurrency=max_concurrency).run(
                pipe, recorder.catalog("thread")
            )
        assert recorder.ran == []
        message = full_message(excinfo.value)
        assert "max_concurrency" in message
        assert "positive" in message

    @pytest.mark.parametrize("timeout", [0, -1, math.nan, "5"])
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_invalid_run_timeout(self, runner_kind, timeout):
        recorder = Recorder()
        pipe = Pipeline([recorder.node()])
        with pytest.raises((ValueError, TypeError)) as excinfo:
            make_runner(runner_kind).run(
                pipe, recorder.catalog(runner_kind), timeout=timeout
            )
        assert recorder.ran == []
        message = full_message(excinfo.value)
        assert "timeout" in message
        assert "positive" in message


# -------------------------------------------------------------------- nodes


async def async_generator(x: Any) -> Any:
    yield x


class AsyncGeneratorCallable:
    async def __call__(self, x: Any) -> Any:
        yield x


class TestNodeDefinition:
    def test_unknown_executor(self):
        with pytest.raises(ValueError) as excinfo:
            node(identity, "a", "b", name="culprit", executor="processes")
        message = full_message(excinfo.value)
        assert "'processes'" in message
        assert "'culprit'" in message
        assert "'inline', 'thread', 'process'" in message

    @pytest.mark.parametrize("func", [3, "identity", None])
    def test_non_callable_function(self, func):
        with pytest.raises(ValueError) as excinfo:
            node(func, "a", "b", name="culprit")
        message = full_message(excinfo.value)
        assert f"'{type(func).__name__}'" in message
        assert "node(function, inputs, outputs)" in message

    @pytest.mark.parametrize(
        "func",
        [
            async_generator,
            functools.partial(async_generator),
            AsyncGeneratorCallable(),
        ],
        ids=["function", "partial", "callable"],
    )
    def test_async_generator_function_streams(self, func):
        # Accepted, in every spelling: it produces a stream (a streaming edge).
        streaming = node(func, "a", "b", name="producer")
        assert streaming._is_stream
        assert streaming.is_async

    @pytest.mark.parametrize(
        ("settings", "outputs", "fix"),
        [
            ({"retries": 2}, "b", "drop retries="),
            ({"timeout": 5}, "b", "drop timeout="),
            ({}, ["b", "c"], "yield tuples to one output"),
        ],
    )
    def test_a_stream_refuses_what_it_cannot_do(self, settings, outputs, fix):
        with pytest.raises(ValueError) as excinfo:
            node(async_generator, "a", outputs, name="culprit", **settings)
        message = full_message(excinfo.value)
        assert "'culprit'" in message
        assert "streams" in message
        assert fix in message

    @pytest.mark.parametrize(
        ("setting", "value", "fix"),
        [
            ("timeout", 0, "> 0"),
            ("timeout", -1, "> 0"),
            ("timeout", math.nan, "> 0"),
            ("timeout", "5", "> 0"),
            ("retries", -1, "int >= 0"),
            ("retries", 1.5, "int >= 0"),
            ("retries", "3", "int >= 0"),
            ("retry_delay", -1, ">= 0"),
            ("retry_delay", math.nan, ">= 0"),
            ("retry_delay", "1", ">= 0"),
            ("retry_backoff", 0.5, ">= 1"),
            ("retry_backoff", 0, ">= 1"),
            ("retry_backoff", math.nan, ">= 1"),
            ("retry_backoff", "2", ">= 1"),
        ],
    )
    def test_invalid_timeout_and_retry_settings(self, setting, value, fix):
        controls: dict[str, Any] = {setting: value}
        if setting.startswith("retry_"):
            controls["retries"] = 2
        with pytest.raises((ValueError, TypeError)) as excinfo:
            node(identity, "a", "b", name="culprit", **controls)
        message = full_message(excinfo.value)
        assert setting in message
        assert "'culprit'" in message
        assert fix in message

    def test_valid_settings_are_accepted(self):
        made = node(
            identity,
            "a",
            "b",
            name="fine",
            executor="thread",
            timeout=0.5,
            retries=3,
            retry_delay=0,
            retry_backoff=1,
        )
        assert (made.timeout, made.retries, made.executor) == (0.5, 3, "thread")
