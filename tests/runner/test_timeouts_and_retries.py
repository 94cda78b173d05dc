"""Per-node ``timeout=`` and ``retries=``/``retry_delay=``/``retry_backoff=``.

Timeouts, for every runner and every kind of node: an ``async def`` node is
cancelled, a process node's worker is killed (its pid is gone), a thread node
cannot be interrupted, so the run stops waiting for it, raises and logs a warning
while the thread is observably still inside the node function. The error is a
``TimeoutError`` (``NodeTimeoutError``) naming the node and the limit.

Retries: only an exception escaping the node function is retried; inputs are
loaded once, outputs saved once (recording datasets count both); the attempts
show in the log and in the final error's notes.

Nodes that block do so until released or forever; a test that fails to stop them
fails through the ``anyio.fail_after`` guard, never through a timing assertion.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from dagloop.io import AbstractDataset, DatasetError, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import (
    NodeTimeoutError,
    ProcessTransferError,
    WorkerProcessError,
)
from tests.runner._nodes import (
    RUNNER_KINDS,
    FailingLoadDataset,
    HookRecorder,
    NodeFailure,
    RecordingDataset,
    current_pid,
    hook_manager_with,
    make_catalog,
    make_runner,
)
from tests.runner._reliability_nodes import (
    GUARD,
    Blocker,
    Forever,
    aflaky,
    calls,
    count_then_exit,
    count_then_return_unpicklable,
    flaky,
    process_gone,
    read_pid,
    spin_forever,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: A node that never finishes, of each kind. "inline" asks for the loop thread,
#: but a sync node with a timeout runs in a worker thread so the timeout can fire.
NODE_KINDS = ("async", "thread", "inline", "process")

#: Limits for nodes that block forever: any value works, small ones keep the
#: tests short. A process node gets longer, so its (already started) worker has
#: time to receive the call even on a loaded machine: the test checks it ran.
FAST_TIMEOUT = 0.3
PROCESS_TIMEOUT = 1.5

RUNNER_LOGGER = "dagloop.runner"


# ------------------------------------------------------------------ timeouts


class Overrun:
    """A pipeline whose node ``slow`` (of one kind) never finishes, and its traces."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.marker = tmp_path / "slow.started"
        self.blocker = Blocker()
        self.forever = Forever(self.marker)
        self.log: list[tuple[Any, ...]] = []
        self.timeout = PROCESS_TIMEOUT if kind == "process" else FAST_TIMEOUT

    def pipeline(self) -> Pipeline:
        if self.kind == "async":
            slow = node(
                self.forever.wait, "a", "out", name="slow", timeout=self.timeout
            )
            return Pipeline([slow])
        if self.kind in ("thread", "inline"):
            slow = node(
                self.blocker.block,
                "a",
                "out",
                name="slow",
                executor=self.kind,
                timeout=self.timeout,
            )
            return Pipeline([slow])
        # A worker is started by "warm" and reused by "slow": the timeout then
        # covers the call, not the start of a Python interpreter.
        return Pipeline(
            [
                node(current_pid, "a", "warm_pid", name="warm", executor="process"),
                node(
                    spin_forever,
                    ["marker", "warm_pid"],
                    "out",
                    name="slow",
                    executor="process",
                    timeout=self.timeout,
                ),
            ]
        )

    def catalog(self, runner_kind: str) -> Any:
        return make_catalog(
            runner_kind,
            {
                "a": MemoryDataset(1),
                "marker": MemoryDataset(str(self.marker)),
                "out": RecordingDataset("out", self.log),
            },
        )

    def check_error(self, error: BaseException) -> None:
        """The run raised the documented error, naming the node and the limit."""
        assert type(error) is NodeTimeoutError
        assert isinstance(error, TimeoutError)
        assert error.node_name == "slow"
        assert error.timeout == self.timeout
        assert "'slow'" in str(error)
        assert f"{self.timeout:g} s" in str(error)

    def check_stopped(self, caplog: pytest.LogCaptureFixture) -> None:
        """The node was stopped as its kind allows; nothing was saved."""
        warnings = [
            r
            for r in caplog.records
            if r.name == RUNNER_LOGGER
            and r.levelno == logging.WARNING
            and "timed out" in r.getMessage()
        ]
        if self.kind == "async":
            assert self.forever.started
            assert self.forever.cancelled == 1
            assert warnings == []
        elif self.kind == "process":
            # The node ran in its worker, and that worker was killed and reaped.
            assert process_gone(read_pid(self.marker))
            assert warnings == []
        else:
            # The run did not wait: the thread is still inside the node function.
            assert self.blocker.entered.is_set()
            assert not self.blocker.returned.is_set()
            (thread,) = self.blocker.threads
            assert thread.is_alive()
            assert thread is not threading.current_thread()
            assert len(warnings) == 1
            message = warnings[0].getMessage()
            assert "'slow'" in message
            assert "cannot be interrupted" in message
            # Released, it returns; its result is discarded.
            self.blocker.release.set()
            assert self.blocker.returned.wait(GUARD)
        assert [e for e in self.log if e[0] == "save"] == []

    def cleanup(self) -> None:
        self.blocker.release.set()


@pytest.fixture
def overrun_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Overrun] = []

    def make(kind: str) -> Overrun:
        made.append(Overrun(kind, tmp_path))
        return made[-1]

    yield make
    for overrun in made:
        overrun.cleanup()


class TestNodeTimeout:
    @pytest.mark.parametrize("kind", NODE_KINDS)
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_run(self, runner_kind, kind, overrun_factory, caplog):
        overrun = overrun_factory(kind)
        with pytest.raises(NodeTimeoutError) as excinfo:
            make_runner(runner_kind).run(
                overrun.pipeline(), overrun.catalog(runner_kind)
            )
        overrun.check_error(excinfo.value)
        overrun.check_stopped(caplog)

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", NODE_KINDS)
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun(self, runner_kind, kind, overrun_factory, caplog):
        overrun = overrun_factory(kind)
        with anyio.fail_after(GUARD), pytest.raises(NodeTimeoutError) as excinfo:
            await make_runner(runner_kind).arun(
                overrun.pipeline(), overrun.catalog(runner_kind)
            )
        overrun.check_error(excinfo.value)
        overrun.check_stopped(caplog)

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", ["thread", "parallel"])
    async def test_a_timeout_stops_the_rest_of_the_run(self, runner_kind):
        """The timed-out node's error ends the run: the nodes in flight with it are
        cancelled, and its own error (not a cancellation) reaches the caller."""
        sibling = Forever()
        slow = Forever()
        pipe = Pipeline(
            [
                node(sibling.wait, "a", "sibling_out", name="sibling"),
                node(slow.wait, "a", "slow_out", name="slow", timeout=FAST_TIMEOUT),
            ]
        )
        with anyio.fail_after(GUARD), pytest.raises(NodeTimeoutError) as excinfo:
            await make_runner(runner_kind).arun(
                pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
            )
        assert excinfo.value.node_name == "slow"
        assert (sibling.cancelled, slow.cancelled) == (1, 1)

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_node_within_its_timeout_is_unaffected(self, runner_kind):
        async def quick(x):
            return x + 1

        pipe = Pipeline(
            [
                node(quick, "a", "b", name="async_node", timeout=GUARD),
                node(current_pid, "a", "pid", name="process_node", timeout=GUARD),
            ]
        )
        result = make_runner(runner_kind).run(
            pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
        )
        assert result["b"].load() == 2


# ------------------------------------------------------------------- retries

#: The flaky function of each kind of node, and where it is asked to run.
RETRY_KINDS = {
    "async": (aflaky, None),
    "thread": (flaky, "thread"),
    "inline": (flaky, "inline"),
    "process": (flaky, "process"),
}


def flaky_pipeline(kind: str, **controls: Any) -> Pipeline:
    func, executor = RETRY_KINDS[kind]
    return Pipeline(
        [
            node(
                func,
                ["counter", "succeed_on", "x"],
                "out",
                name="flaky_node",
                executor=executor,
                **controls,
            )
        ]
    )


def flaky_catalog(
    runner_kind: str, tmp_path: Path, succeed_on: int, log: list[tuple[Any, ...]]
) -> Any:
    return make_catalog(
        runner_kind,
        {
            "counter": MemoryDataset(str(tmp_path / "calls")),
            "succeed_on": MemoryDataset(succeed_on),
            "x": RecordingDataset("x", log, data={"value": 42}),
            "out": RecordingDataset("out", log),
        },
    )


def retry_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == RUNNER_LOGGER
        and r.levelno == logging.WARNING
        and "failed on attempt" in r.getMessage()
    ]


class TestRetries:
    @pytest.mark.parametrize("kind", list(RETRY_KINDS))
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_node_that_succeeds_on_a_retry_loads_and_saves_once(
        self, runner_kind, kind, tmp_path, caplog
    ):
        caplog.set_level(logging.INFO)
        log: list[tuple[Any, ...]] = []
        hooks = HookRecorder()
        result = make_runner(runner_kind).run(
            flaky_pipeline(kind, retries=2),
            flaky_catalog(runner_kind, tmp_path, 3, log),
            hook_manager=hook_manager_with(hooks),
        )

        assert calls(tmp_path / "calls") == 3
        assert result["out"].load() == {"value": 42}
        log = [e for e in log if e[0] != "load" or e[1] != "out"]
        assert log == [("load", "x"), ("save", "out", {"value": 42})]
        # Hooks see one node run: the retries happen inside it.
        assert [c.hook for c in hooks.calls if "node" in c.hook] == [
            "before_node_run",
            "after_node_run",
        ]
        warnings = retry_warnings(caplog)
        assert len(warnings) == 2
        assert "'flaky_node' failed on attempt 1 of 3" in warnings[0]
        assert "'flaky_node' failed on attempt 2 of 3" in warnings[1]
        assert "attempt 1 failed" in warnings[0]  # the exception is shown

    @pytest.mark.parametrize("kind", list(RETRY_KINDS))
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_node_failing_every_attempt_raises_the_last_error_with_a_note(
        self, runner_kind, kind, tmp_path, caplog
    ):
        log: list[tuple[Any, ...]] = []
        with pytest.raises(NodeFailure) as excinfo:
            make_runner(runner_kind).run(
                flaky_pipeline(kind, retries=2),
                flaky_catalog(runner_kind, tmp_path, 0, log),
            )

        assert calls(tmp_path / "calls") == 3
        assert str(excinfo.value) == "attempt 3 failed"
        assert "Node 'flaky_node' failed on all 3 attempts." in excinfo.value.__notes__
        assert log == [("load", "x")]
        assert len(retry_warnings(caplog)) == 2

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["async", "process"])
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun_retries(self, runner_kind, kind, tmp_path, caplog):
        log: list[tuple[Any, ...]] = []
        with anyio.fail_after(GUARD):
            await make_runner(runner_kind).arun(
                flaky_pipeline(kind, retries=1),
                flaky_catalog(runner_kind, tmp_path, 2, log),
            )
        assert calls(tmp_path / "calls") == 2
        assert log == [("load", "x"), ("save", "out", {"value": 42})]
        assert len(retry_warnings(caplog)) == 1

    def test_without_retries_a_failure_is_final(self, tmp_path, caplog):
        log: list[tuple[Any, ...]] = []
        with pytest.raises(NodeFailure) as excinfo:
            make_runner("sequential").run(
                flaky_pipeline("inline"), flaky_catalog("sequential", tmp_path, 2, log)
            )
        assert calls(tmp_path / "calls") == 1
        assert not any("attempts" in n for n in getattr(excinfo.value, "__notes__", []))
        assert retry_warnings(caplog) == []

    def test_delays_grow_by_the_backoff_factor(self, tmp_path, caplog):
        log: list[tuple[Any, ...]] = []
        make_runner("sequential").run(
            flaky_pipeline("inline", retries=3, retry_delay=0.01, retry_backoff=3),
            flaky_catalog("sequential", tmp_path, 4, log),
        )
        warnings = retry_warnings(caplog)
        assert [w.rsplit("retrying in ", 1)[1] for w in warnings] == [
            "0.01 s.",
            "0.03 s.",
            "0.09 s.",
        ]
        assert [w.split(" (")[0] for w in warnings] == [
            f"Node 'flaky_node' failed on attempt {i} of 4" for i in (1, 2, 3)
        ]


# ----------------------------------------- what is not an exception of the node


class FailingSave(AbstractDataset[Any, Any]):
    """A dataset whose save always fails."""

    def __init__(self) -> None:
        self.attempts = 0

    def load(self) -> Any:
        raise AssertionError("never loaded")

    def save(self, data: Any) -> None:
        self.attempts += 1
        raise OSError("the disk is full")

    def _describe(self) -> dict[str, Any]:
        return {}


class TestOnlyNodeExceptionsAreRetried:
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_failed_load_is_not_retried(self, runner_kind, tmp_path):
        pipe = flaky_pipeline("inline", retries=3)
        catalog = flaky_catalog(runner_kind, tmp_path, 1, [])
        catalog["x"] = FailingLoadDataset()
        with pytest.raises(DatasetError) as excinfo:
            make_runner(runner_kind).run(pipe, catalog)
        assert calls(tmp_path / "calls") == 0
        assert "While loading the inputs of node 'flaky_node'." in (
            excinfo.value.__notes__
        )

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_failed_save_is_not_retried(self, runner_kind, tmp_path, caplog):
        pipe = flaky_pipeline("thread", retries=3)
        catalog = flaky_catalog(runner_kind, tmp_path, 1, [])
        failing = FailingSave()
        catalog["out"] = failing
        with pytest.raises(DatasetError, match="the disk is full") as excinfo:
            make_runner(runner_kind).run(pipe, catalog)
        assert calls(tmp_path / "calls") == 1
        assert failing.attempts == 1
        assert any("'flaky_node'" in n for n in excinfo.value.__notes__)
        assert retry_warnings(caplog) == []

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_dead_worker_is_not_retried(self, runner_kind, tmp_path, caplog):
        pipe = Pipeline(
            [
                node(
                    count_then_exit,
                    ["counter", "x"],
                    "out",
                    name="dies",
                    executor="process",
                    retries=3,
                )
            ]
        )
        catalog = flaky_catalog(runner_kind, tmp_path, 1, [])
        with pytest.raises(WorkerProcessError, match="'dies'"):
            make_runner(runner_kind).run(pipe, catalog)
        assert calls(tmp_path / "calls") == 1
        assert retry_warnings(caplog) == []

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_an_unpicklable_result_is_not_retried(self, runner_kind, tmp_path, caplog):
        pipe = Pipeline(
            [
                node(
                    count_then_return_unpicklable,
                    ["counter", "x"],
                    "out",
                    name="locks",
                    executor="process",
                    retries=3,
                )
            ]
        )
        catalog = flaky_catalog(runner_kind, tmp_path, 1, [])
        with pytest.raises(ProcessTransferError, match="'locks'"):
            make_runner(runner_kind).run(pipe, catalog)
        assert calls(tmp_path / "calls") == 1
        assert retry_warnings(caplog) == []

    @pytest.mark.parametrize("runner_kind", ["sequential", "thread"])
    def test_a_generator_failing_mid_stream_is_not_rerun(
        self, runner_kind, tmp_path, caplog
    ):
        """Its first items are saved already: running it again would save them
        twice. Each chunk is saved exactly once; the error reaches the caller."""
        started = 0

        def chunks(x):
            nonlocal started
            started += 1
            yield 1
            yield 2
            raise NodeFailure("mid-stream")

        log: list[tuple[Any, ...]] = []
        pipe = Pipeline([node(chunks, "x", "out", name="chunks", retries=3)])
        catalog = make_catalog(
            runner_kind,
            {"x": MemoryDataset(0), "out": RecordingDataset("out", log)},
        )
        with pytest.raises(NodeFailure, match="mid-stream"):
            make_runner(runner_kind).run(pipe, catalog)
        assert started == 1
        assert [e for e in log if e[0] == "save"] == [
            ("save", "out", 1),
            ("save", "out", 2),
        ]


class TestTimeoutWithRetries:
    def test_every_attempt_is_bounded_by_the_timeout(self, tmp_path):
        """``timeout`` bounds one attempt: a node retried after timing out still
        ends with a ``NodeTimeoutError`` naming it (whatever the retry policy)."""
        forever = Forever()
        pipe = Pipeline(
            [node(forever.wait, "a", "b", name="slow", timeout=0.1, retries=1)]
        )
        with pytest.raises(NodeTimeoutError) as excinfo:
            make_runner("thread").run(
                pipe, make_catalog("thread", {"a": MemoryDataset(1)})
            )
        assert excinfo.value.node_name == "slow"
        assert forever.cancelled == forever.stopped >= 1
