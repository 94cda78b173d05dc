"""Faults: dead workers, values that cannot cross a process, failed saves, and
several failures at once.

* A worker process that dies (``os._exit``, SIGKILL) raises ``WorkerProcessError``
  naming the node, with AnyIO's ``BrokenWorkerProcess`` as ``__cause__``, within
  seconds; the rest of the run is cancelled: async nodes cancelled, other workers
  killed and reaped, no node started afterwards.
* A result (or an input) that cannot be pickled raises ``ProcessTransferError``
  naming the node.
* A failed save raises ``DatasetError`` with a note naming the node; outputs saved
  before stay intact and no temporary file is left (the directory is listed).
* Two nodes failing at the same moment raise one of the two errors, never an
  ``ExceptionGroup``; the other is attached as a note.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from dagloop.io import DatasetError, JSONDataset, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ProcessTransferError, WorkerProcessError
from tests.runner._nodes import (
    RUNNER_KINDS,
    NodeFailure,
    RecordingDataset,
    current_pid,
    identity,
    make_catalog,
    make_runner,
)
from tests.runner._reliability_nodes import (
    GUARD,
    Forever,
    child_pids,
    die_when_started,
    fail_at_barrier,
    listing,
    process_counter,
    process_gone,
    read_pid,
    spin_forever,
    unpicklable_result,
)

if TYPE_CHECKING:
    from pathlib import Path

#: A dead worker is noticed at once (its pipe closes): "within seconds".
DEATH_NOTICED_WITHIN = 15

DEATHS = ("exit", "sigkill")
CONCURRENT_RUNNERS = ("thread", "parallel")


# -------------------------------------------------------------- dead worker


class DyingWorker:
    """A process node ``dies`` whose worker ends abruptly while, in concurrent
    runners, an async node and another process node are in flight beside it."""

    def __init__(self, runner_kind: str, how: str, tmp_path: Path) -> None:
        self.runner_kind = runner_kind
        self.how = how
        self.tmp_path = tmp_path
        self.siblings = runner_kind != "sequential"
        self.forever = Forever(tmp_path / "async.started")
        self.after_ran: list[str] = []
        self.children_before = child_pids()

    def pipeline(self) -> Pipeline:
        def after(x: Any) -> Any:
            self.after_ran.append("after")
            return x

        nodes = [
            node(
                die_when_started,
                ["how", "dies_marker", "wait_for"],
                "dead",
                name="dies",
                executor="process",
            ),
            node(after, "dead", "final", name="after", executor="inline"),
        ]
        if self.siblings:
            nodes += [
                node(self.forever.wait, "how", "async_out", name="async_sibling"),
                node(
                    spin_forever,
                    "spin_marker",
                    "spin_out",
                    name="process_sibling",
                    executor="process",
                ),
            ]
        return Pipeline(nodes)

    def catalog(self) -> Any:
        # The worker dies only once the siblings are in flight, so the test sees
        # them stopped by the failure, not merely never started.
        wait_for = (
            [str(self.tmp_path / "async.started"), str(self.tmp_path / "spin.started")]
            if self.siblings
            else []
        )
        return make_catalog(
            self.runner_kind,
            {
                "how": MemoryDataset(self.how),
                "dies_marker": MemoryDataset(str(self.tmp_path / "dies.started")),
                "wait_for": MemoryDataset(wait_for),
                "spin_marker": MemoryDataset(str(self.tmp_path / "spin.started")),
            },
        )

    def check(self, error: BaseException) -> None:
        assert type(error) is WorkerProcessError
        assert "'dies'" in str(error)
        assert isinstance(error.__cause__, anyio.BrokenWorkerProcess)
        assert process_gone(read_pid(self.tmp_path / "dies.started"))
        assert self.after_ran == []
        if self.siblings:
            assert self.forever.cancelled == 1
            assert process_gone(read_pid(self.tmp_path / "spin.started"))
        # Every worker of the run is gone and reaped, not only the dead one.
        assert child_pids() - self.children_before == set()


class TestWorkerProcessDies:
    @pytest.mark.anyio
    @pytest.mark.parametrize("how", DEATHS)
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun(self, runner_kind, how, tmp_path):
        dying = DyingWorker(runner_kind, how, tmp_path)
        with (
            anyio.fail_after(DEATH_NOTICED_WITHIN),
            pytest.raises(WorkerProcessError) as excinfo,
        ):
            await make_runner(runner_kind).arun(dying.pipeline(), dying.catalog())
        dying.check(excinfo.value)

    @pytest.mark.parametrize("how", DEATHS)
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_run(self, runner_kind, how, tmp_path):
        dying = DyingWorker(runner_kind, how, tmp_path)
        with pytest.raises(WorkerProcessError) as excinfo:
            make_runner(runner_kind).run(dying.pipeline(), dying.catalog())
        dying.check(excinfo.value)

    @pytest.mark.anyio
    async def test_the_next_run_on_the_loop_gets_a_fresh_worker(self, tmp_path):
        """A dead worker is not handed out again: the next process node runs."""
        dying = DyingWorker("parallel", "sigkill", tmp_path)
        with anyio.fail_after(GUARD), pytest.raises(WorkerProcessError):
            await make_runner("parallel").arun(dying.pipeline(), dying.catalog())
        pipe = Pipeline([node(current_pid, "a", "pid", name="again")])
        with anyio.fail_after(GUARD):
            result = await make_runner("parallel").arun(
                pipe, make_catalog("parallel", {"a": MemoryDataset(1)})
            )
        assert result["pid"].load() != read_pid(tmp_path / "dies.started")


# ------------------------------------------------ crossing the process boundary


class TestProcessTransfer:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_an_unpicklable_result(self, runner_kind):
        log: list[tuple[Any, ...]] = []
        pipe = Pipeline(
            [
                node(
                    unpicklable_result,
                    "a",
                    "out",
                    name="returns_a_lock",
                    executor="process",
                )
            ]
        )
        catalog = make_catalog(
            runner_kind, {"a": MemoryDataset(1), "out": RecordingDataset("out", log)}
        )
        with anyio.fail_after(GUARD), pytest.raises(ProcessTransferError) as excinfo:
            await make_runner(runner_kind).arun(pipe, catalog)
        message = str(excinfo.value)
        assert "'returns_a_lock'" in message
        assert "pickle" in message
        assert "executor='thread'" in message  # the way out
        assert log == []

    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_an_unpicklable_input_never_reaches_a_worker(self, runner_kind):
        children_before = child_pids()
        pipe = Pipeline(
            [node(identity, "lock", "out", name="takes_a_lock", executor="process")]
        )
        catalog = make_catalog(
            runner_kind, {"lock": MemoryDataset(threading.Lock(), copy_mode="assign")}
        )
        with pytest.raises(ProcessTransferError) as excinfo:
            make_runner(runner_kind).run(pipe, catalog)
        assert "'takes_a_lock'" in str(excinfo.value)
        assert "pickled" in str(excinfo.value)
        assert child_pids() == children_before


# ------------------------------------------------------------- failed saves


class UnwritableJSON:
    """File datasets in ``tmp_path/out``: ``first.json`` saves fine, then a save
    of ``second`` fails, in one of two ways."""

    def __init__(self, tmp_path: Path, how: str) -> None:
        self.dir = tmp_path / "out"
        self.dir.mkdir()
        self.how = how
        if how == "rename":
            # Written to a temporary file, which cannot replace a directory.
            (self.dir / "second.json").mkdir()

    def catalog(self, runner_kind: str, **extra: Any) -> Any:
        return make_catalog(
            runner_kind,
            {
                "a": MemoryDataset({"first": 1}),
                "first": JSONDataset(str(self.dir / "first.json")),
                "second": JSONDataset(str(self.dir / "second.json")),
                **extra,
            },
        )

    @property
    def bad_value(self) -> Any:
        # A set is not JSON; a plain dict fails only at the rename.
        return {1, 2} if self.how == "encode" else {"second": 2}

    def check(self, error: BaseException, node_name: str) -> None:
        assert isinstance(error, DatasetError)
        notes = getattr(error, "__notes__", [])
        assert any(f"'{node_name}'" in note for note in notes), notes
        # What was saved before the failure is intact...
        assert json.loads((self.dir / "first.json").read_text()) == {"first": 1}
        # ... and the failed save left nothing behind: no temporary file.
        expected = (
            ["first.json", "second.json"] if self.how == "rename" else ["first.json"]
        )
        assert listing(self.dir) == expected
        if self.how == "rename":
            assert list((self.dir / "second.json").iterdir()) == []


class TestFailedSave:
    @pytest.mark.parametrize("how", ["encode", "rename"])
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_a_later_node_fails_to_save(self, runner_kind, how, tmp_path):
        files = UnwritableJSON(tmp_path, how)
        pipe = Pipeline(
            [
                node(identity, "a", "first", name="writes_first"),
                node(pick_first, ["bad", "first"], "second", name="writes_second"),
            ]
        )
        catalog = files.catalog(runner_kind, bad=MemoryDataset(files.bad_value))
        with pytest.raises(DatasetError) as excinfo:
            make_runner(runner_kind).run(pipe, catalog)
        files.check(excinfo.value, "writes_second")

    @pytest.mark.parametrize("how", ["encode", "rename"])
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_the_second_output_of_a_node_fails_to_save(
        self, runner_kind, how, tmp_path
    ):
        files = UnwritableJSON(tmp_path, how)
        pipe = Pipeline(
            [node(pair, ["a", "bad"], ["first", "second"], name="writes_both")]
        )
        catalog = files.catalog(runner_kind, bad=MemoryDataset(files.bad_value))
        with pytest.raises(DatasetError) as excinfo:
            make_runner(runner_kind).run(pipe, catalog)
        files.check(excinfo.value, "writes_both")

    @pytest.mark.parametrize("runner_kind", ["sequential", "parallel"])
    def test_concurrent_saves_leave_no_temporary_file(self, runner_kind, tmp_path):
        """``is_async=True`` saves a node's outputs at once: one failing cancels
        the other mid-write, which must remove its temporary file too."""
        files = UnwritableJSON(tmp_path, "rename")
        big = {"rows": list(range(200_000))}  # big enough to be written in a thread
        pipe = Pipeline(
            [
                node(identity, "a", "first", name="writes_first"),
                node(
                    pair,
                    ["big", "bad"],
                    ["big_out", "second"],
                    name="writes_both",
                ),
            ]
        )
        catalog = files.catalog(
            runner_kind,
            bad=MemoryDataset(files.bad_value),
            big=MemoryDataset(big, copy_mode="assign"),
            big_out=JSONDataset(str(files.dir / "big.json")),
        )
        with pytest.raises(DatasetError) as excinfo:
            make_runner(runner_kind, is_async=True).run(pipe, catalog)
        names = listing(files.dir)
        assert not [n for n in names if n.endswith(".tmp")], names
        assert set(names) <= {"first.json", "second.json", "big.json"}
        if "big.json" in names:  # saved before the failure: complete
            assert json.loads((files.dir / "big.json").read_text()) == big
        assert any("'writes_both'" in n for n in excinfo.value.__notes__)


def pick_first(bad: Any, first: Any) -> Any:
    return bad


def pair(a: Any, b: Any) -> tuple[Any, Any]:
    return a, b


# ----------------------------------------------------- failures at once


def assert_one_of(error: BaseException, labels: set[str]) -> None:
    assert type(error) is NodeFailure  # never an ExceptionGroup
    raised = str(error).removeprefix("failure ")
    assert raised in labels
    others = labels - {raised}
    notes = getattr(error, "__notes__", [])
    # Failures of the same moment may be noted, and only those.
    assert len(notes) <= len(others)
    assert all(any(f"failure {o}" in note for o in others) for note in notes)


class TestSimultaneousFailures:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    async def test_two_thread_nodes(self, runner_kind):
        barrier = threading.Barrier(2, timeout=GUARD)

        def fail_together(label: str) -> Any:
            barrier.wait()
            raise NodeFailure(f"failure {label}")

        pipe = Pipeline(
            [
                node(fail_together, "one", "o1", name="n1", executor="thread"),
                node(fail_together, "two", "o2", name="n2", executor="thread"),
            ]
        )
        catalog = make_catalog(
            runner_kind, {"one": MemoryDataset("1"), "two": MemoryDataset("2")}
        )
        with (
            anyio.fail_after(GUARD),
            pytest.raises((Exception, BaseExceptionGroup)) as excinfo,
        ):
            await make_runner(runner_kind).arun(pipe, catalog)
        assert_one_of(excinfo.value, {"1", "2"})

    @pytest.mark.anyio
    async def test_two_process_nodes(self):
        with process_counter(parties=2) as (ref, _state, _barrier):
            pipe = Pipeline(
                [
                    node(fail_at_barrier, ["ref", "one"], "o1", name="n1"),
                    node(fail_at_barrier, ["ref", "two"], "o2", name="n2"),
                ]
            )
            catalog = make_catalog(
                "parallel",
                {
                    "ref": MemoryDataset(ref),
                    "one": MemoryDataset("1"),
                    "two": MemoryDataset("2"),
                },
            )
            with (
                anyio.fail_after(GUARD),
                pytest.raises((Exception, BaseExceptionGroup)) as excinfo,
            ):
                await make_runner("parallel").arun(pipe, catalog)
        assert_one_of(excinfo.value, {"1", "2"})

    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    def test_a_thread_node_and_a_process_node_and_an_async_node(
        self, runner_kind, tmp_path
    ):
        """Three kinds failing together: one plain exception comes out of run()."""
        with process_counter(parties=3) as (ref, _state, barrier):

            def thread_fails(label: str) -> Any:
                barrier.wait(timeout=GUARD)
                raise NodeFailure(f"failure {label}")

            async def async_fails(label: str) -> Any:
                await anyio.to_thread.run_sync(barrier.wait, GUARD)
                raise NodeFailure(f"failure {label}")

            pipe = Pipeline(
                [
                    node(
                        fail_at_barrier,
                        ["ref", "p"],
                        "o1",
                        name="n1",
                        executor="process",
                    ),
                    node(thread_fails, "t", "o2", name="n2", executor="thread"),
                    node(async_fails, "s", "o3", name="n3"),
                ]
            )
            catalog = make_catalog(
                runner_kind,
                {
                    "ref": MemoryDataset(ref),
                    "p": MemoryDataset("p"),
                    "t": MemoryDataset("t"),
                    "s": MemoryDataset("s"),
                },
            )
            with pytest.raises((Exception, BaseExceptionGroup)) as excinfo:
                make_runner(runner_kind).run(pipe, catalog)
        assert_one_of(excinfo.value, {"p", "t", "s"})

    @pytest.mark.anyio
    async def test_two_workers_dying_at_once(self, tmp_path):
        markers = [str(tmp_path / "a.started"), str(tmp_path / "b.started")]
        pipe = Pipeline(
            [
                node(
                    die_when_started,
                    ["how", "marker_a", "both"],
                    "o1",
                    name="dies_a",
                ),
                node(
                    die_when_started,
                    ["how", "marker_b", "both"],
                    "o2",
                    name="dies_b",
                ),
            ]
        )
        # Each announces it is alive, waits for the other, then both die.
        catalog = make_catalog(
            "parallel",
            {
                "how": MemoryDataset("sigkill"),
                "marker_a": MemoryDataset(markers[0]),
                "marker_b": MemoryDataset(markers[1]),
                "both": MemoryDataset([f"{m}.alive" for m in markers]),
            },
        )
        children_before = child_pids()
        with (
            anyio.fail_after(DEATH_NOTICED_WITHIN),
            pytest.raises((Exception, BaseExceptionGroup)) as excinfo,
        ):
            await make_runner("parallel").arun(pipe, catalog)
        error = excinfo.value
        assert type(error) is WorkerProcessError
        assert "'dies_a'" in str(error) or "'dies_b'" in str(error)
        assert child_pids() - children_before == set()
