"""How many nodes run at once, where they run, and how a failure stops a run.

Everything here is observed with events, barriers and counters: a node that
needs another one in flight waits for it, so a runner that serialises too much
deadlocks (and the ``anyio.fail_after`` / barrier timeouts turn that into a
failure), and a runner that runs too much shows a higher peak.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.runner._nodes import (
    NodeFailure,
    current_pid,
    identity,
    make_catalog,
    make_runner,
    process_event,
    signal_then_sleep,
    whereabouts,
)

GUARD = 30  # seconds before a deadlocked test gives up (never reached when passing)


class InFlight:
    """Counts nodes running now and the most that ever ran at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def enter(self) -> int:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            return self.now

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def fan_out(func: Any, count: int) -> Pipeline:
    """``count`` independent nodes reading 'a', named n00, n01, ..."""
    return Pipeline(
        [node(func, "a", f"out{i:02d}", name=f"n{i:02d}") for i in range(count)]
    )


# ------------------------------------------------------------ ThreadRunner


class TestThreadRunnerLimits:
    def test_sync_nodes_use_at_most_max_workers_threads_and_all_of_them(self):
        in_flight = InFlight()
        # Two nodes must be in flight together to pass the barrier.
        barrier = threading.Barrier(2, timeout=GUARD)

        def work(x):
            in_flight.enter()
            barrier.wait()
            in_flight.leave()
            return threading.get_ident()

        pipe = fan_out(work, 6)
        result = ThreadRunner(max_workers=2).run(
            pipe, DataCatalog({"a": MemoryDataset(1)})
        )

        assert in_flight.peak == 2
        # All six were ready at once: with more than two threads allowed, each
        # would have started in a thread of its own before any finished.
        threads = {result[f"out{i:02d}"].load() for i in range(6)}
        assert len(threads) == 2
        assert threading.get_ident() not in threads

    @pytest.mark.anyio
    async def test_async_nodes_are_not_limited_by_max_workers(self):
        count = 20
        started = 0
        all_started = anyio.Event()

        async def wait_for_everyone(x):
            nonlocal started
            started += 1
            if started == count:
                all_started.set()
            # Deadlocks unless all 20 are in flight at once.
            await all_started.wait()
            return x

        with anyio.fail_after(GUARD):
            result = await ThreadRunner(max_workers=1).arun(
                fan_out(wait_for_everyone, count), DataCatalog({"a": MemoryDataset(1)})
            )
        assert len(result) == count

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_class", [ThreadRunner, ParallelRunner])
    async def test_max_concurrency_caps_async_nodes(self, runner_class):
        in_flight = InFlight()
        three_in = anyio.Event()

        async def capped(x):
            if in_flight.enter() == 3:
                three_in.set()
            # Needs 3 in flight to go on; all 9 would enter if nothing capped them.
            await three_in.wait()
            in_flight.leave()
            return x

        catalog = make_catalog(
            "parallel" if runner_class is ParallelRunner else "thread",
            {"a": MemoryDataset(1)},
        )
        with anyio.fail_after(GUARD):
            await runner_class(max_concurrency=3).arun(fan_out(capped, 9), catalog)
        assert in_flight.peak == 3

    @pytest.mark.anyio
    async def test_async_nodes_run_all_at_once_without_max_concurrency(self):
        in_flight = InFlight()
        three_in = anyio.Event()

        async def uncapped(x):
            if in_flight.enter() == 3:
                three_in.set()
            await three_in.wait()
            in_flight.leave()
            return x

        with anyio.fail_after(GUARD):
            await ThreadRunner().arun(
                fan_out(uncapped, 9), DataCatalog({"a": MemoryDataset(1)})
            )
        assert in_flight.peak == 9


# -------------------------------------------------------- SequentialRunner


def order_pipeline(trail: list[tuple[str, str]]) -> Pipeline:
    """Sync and async nodes, defined out of name order, two layers."""

    def sync_step(name):
        def run(x):
            trail.append(("start", name))
            trail.append(("end", name))
            return x

        return run

    def async_step(name):
        async def run(x):
            trail.append(("start", name))
            # Checkpoints: another node would get the chance to start here.
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            trail.append(("end", name))
            return x

        return run

    return Pipeline(
        [
            node(async_step("c"), "a", "c_out", name="c"),
            node(sync_step("a"), "a", "a_out", name="a"),
            node(async_step("b"), "a", "b_out", name="b"),
            node(sync_step("e"), ["a_out"], "e_out", name="e"),
            node(async_step("d"), ["c_out"], "d_out", name="d"),
        ]
    )


def assert_one_at_a_time(trail: list[tuple[str, str]], pipe: Pipeline) -> None:
    names = [n.name for n in pipe.nodes]
    assert names == ["a", "b", "c", "d", "e"]
    expected = [event for name in names for event in (("start", name), ("end", name))]
    assert trail == expected


class TestSequentialRunner:
    def test_run_one_node_at_a_time_in_pipeline_order(self):
        trail: list[tuple[str, str]] = []
        pipe = order_pipeline(trail)
        SequentialRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}))
        assert_one_at_a_time(trail, pipe)

    @pytest.mark.anyio
    async def test_arun_one_node_at_a_time_in_pipeline_order(self):
        trail: list[tuple[str, str]] = []
        pipe = order_pipeline(trail)
        await SequentialRunner().arun(pipe, DataCatalog({"a": MemoryDataset(1)}))
        assert_one_at_a_time(trail, pipe)

    def test_run_runs_sync_nodes_on_the_loop_thread(self):
        async def loop_thread(x):
            return threading.get_ident()

        pipe = Pipeline(
            [
                node(loop_thread, "a", "loop", name="on_loop"),
                node(lambda x: threading.get_ident(), "a", "sync", name="sync"),
            ]
        )
        result = SequentialRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}))
        # No loop was running: run() ran one in this thread, sync nodes inline.
        assert result["loop"].load() == threading.get_ident()
        assert result["sync"].load() == threading.get_ident()

    @pytest.mark.anyio
    async def test_arun_runs_sync_nodes_in_a_thread_while_the_loop_ticks(self):
        node_started = anyio.Event()
        release = threading.Event()
        ticks = 0
        wanted_ticks = 50

        def blocking(x):
            # Only possible from a worker thread of this loop.
            anyio.from_thread.run_sync(node_started.set)
            if not release.wait(timeout=GUARD):
                raise RuntimeError("the event loop never ticked")
            return threading.get_ident()

        async def ticker():
            nonlocal ticks
            await node_started.wait()
            for _ in range(wanted_ticks):
                ticks += 1
                await anyio.lowlevel.checkpoint()
            release.set()

        pipe = Pipeline([node(blocking, "a", "thread", name="blocking")])
        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as group:
                group.start_soon(ticker)
                result = await SequentialRunner().arun(
                    pipe, DataCatalog({"a": MemoryDataset(1)})
                )

        assert ticks == wanted_ticks
        assert result["thread"].load() != threading.get_ident()


# ------------------------------------------------------------ placement


EXPECTED_PLACE = {
    # (runner, executor, run or arun) -> where the node runs
    ("sequential", None, "run"): "loop",
    ("sequential", None, "arun"): "thread",
    ("thread", None, "run"): "thread",
    ("thread", None, "arun"): "thread",
    ("parallel", None, "run"): "process",
    ("parallel", None, "arun"): "process",
}


def place(where: tuple[int, int], loop_thread: int) -> str:
    pid, thread = where
    if pid != os.getpid():
        return "process"
    return "loop" if thread == loop_thread else "thread"


class TestPlacement:
    @pytest.mark.parametrize("kind", ["sequential", "thread", "parallel"])
    @pytest.mark.parametrize("executor", ["inline", "thread", "process", None])
    def test_run(self, kind, executor):
        pipe = Pipeline([node(whereabouts, "a", "where", name="n", executor=executor)])
        result = make_runner(kind).run(
            pipe, make_catalog(kind, {"a": MemoryDataset(1)})
        )
        expected = (
            {"inline": "loop"}.get(executor, executor)
            if executor
            else EXPECTED_PLACE[(kind, None, "run")]
        )
        assert place(result["where"].load(), threading.get_ident()) == expected

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["sequential", "thread", "parallel"])
    @pytest.mark.parametrize("executor", ["inline", "thread", "process", None])
    async def test_arun(self, kind, executor):
        pipe = Pipeline([node(whereabouts, "a", "where", name="n", executor=executor)])
        result = await make_runner(kind).arun(
            pipe, make_catalog(kind, {"a": MemoryDataset(1)})
        )
        expected = (
            {"inline": "loop"}.get(executor, executor)
            if executor
            else EXPECTED_PLACE[(kind, None, "arun")]
        )
        assert place(result["where"].load(), threading.get_ident()) == expected

    def test_parallel_runner_accepts_a_lambda_that_does_not_run_in_a_process(self):
        pipe = Pipeline(
            [
                node(lambda x: os.getpid(), "a", "thread_pid", executor="thread"),
                node(lambda x: os.getpid(), "a", "inline_pid", executor="inline"),
            ]
        )
        result = ParallelRunner().run(
            pipe, make_catalog("parallel", {"a": MemoryDataset(1)})
        )
        assert result["thread_pid"].load() == os.getpid()
        assert result["inline_pid"].load() == os.getpid()

    def test_parallel_runner_sync_in_workers_async_in_parent(self):
        async def parent_pid(x):
            return os.getpid(), threading.get_ident()

        pipe = Pipeline(
            [
                node(current_pid, "a", "first", name="first"),
                node(current_pid, "a", "second", name="second"),
                node(parent_pid, "a", "async", name="async"),
            ]
        )
        result = ParallelRunner().run(
            pipe, make_catalog("parallel", {"a": MemoryDataset(1)})
        )
        assert result["first"].load() != os.getpid()
        assert result["second"].load() != os.getpid()
        assert result["async"].load() == (os.getpid(), threading.get_ident())


# ------------------------------------------------------------- failures


class TestFailureStopsTheRun:
    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["thread", "parallel"])
    async def test_first_failure_cancels_async_nodes_in_flight(self, kind):
        error = NodeFailure("first failure")
        forever_started = anyio.Event()
        cancelled: list[str] = []

        async def forever(x):
            forever_started.set()
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.append("forever")
                raise

        async def failing(x):
            await forever_started.wait()
            raise error

        pipe = Pipeline(
            [
                node(forever, "a", "never", name="forever"),
                node(failing, "a", "b", name="failing"),
            ]
        )
        with anyio.fail_after(GUARD), pytest.raises(NodeFailure) as excinfo:
            await make_runner(kind).arun(
                pipe, make_catalog(kind, {"a": MemoryDataset(1)})
            )

        assert excinfo.value is error
        assert not isinstance(excinfo.value, BaseExceptionGroup)
        assert cancelled == ["forever"]

    @pytest.mark.anyio
    async def test_failure_does_not_wait_for_a_thread_node_in_flight(self):
        blocker_started = anyio.Event()
        release = threading.Event()
        finished: list[str] = []

        def block(x):
            anyio.from_thread.run_sync(blocker_started.set)
            release.wait(timeout=40)
            finished.append("blocker")
            return x

        async def failing(x):
            await blocker_started.wait()
            raise NodeFailure("stop")

        pipe = Pipeline(
            [
                node(block, "a", "x", name="blocker"),
                node(failing, "a", "b", name="failing"),
            ]
        )
        try:
            with anyio.fail_after(GUARD), pytest.raises(NodeFailure, match="stop"):
                await ThreadRunner().arun(pipe, DataCatalog({"a": MemoryDataset(1)}))
            # The run ended while the node was still blocked.
            assert finished == []
        finally:
            release.set()

    @pytest.mark.anyio
    async def test_failure_does_not_wait_for_a_process_node_in_flight(self):
        with process_event() as (event_ref, running):

            async def failing(x):
                # Fail once the other node is running in its worker process.
                await anyio.to_thread.run_sync(running.wait, GUARD)
                raise NodeFailure("stop")

            catalog = make_catalog("parallel", {"event": MemoryDataset(event_ref)})
            pipe = Pipeline(
                [
                    node(signal_then_sleep, "event", "pid", name="blocker"),
                    node(failing, "event", "b", name="failing"),
                ]
            )
            # The blocker sleeps 40 s: a run waiting for it overruns the guard.
            with anyio.fail_after(GUARD), pytest.raises(NodeFailure, match="stop"):
                await ParallelRunner().arun(pipe, catalog)
            assert running.is_set()

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["thread", "parallel"])
    async def test_no_node_starts_after_the_failure(self, kind):
        slow_started = anyio.Event()
        release = threading.Event()
        started: list[str] = []

        def slow(x):
            anyio.from_thread.run_sync(slow_started.set)
            release.wait(timeout=GUARD)
            return x

        async def failing(x):
            await slow_started.wait()
            # The slow node finishes now, after this failure: its child must
            # not start.
            release.set()
            raise NodeFailure("stop")

        def child(x):
            started.append("child")
            return x

        pipe = Pipeline(
            [
                node(slow, "a", "slow_out", name="slow", executor="thread"),
                node(failing, "a", "b", name="failing"),
                node(child, "slow_out", "c", name="child", executor="thread"),
            ]
        )
        with anyio.fail_after(GUARD), pytest.raises(NodeFailure, match="stop"):
            await make_runner(kind).arun(
                pipe, make_catalog(kind, {"a": MemoryDataset(1)})
            )
        assert started == []

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["thread", "parallel"])
    async def test_two_failures_at_once_raise_one_and_note_the_other(self, kind):
        arrived = 0
        both_here = anyio.Event()

        async def fail_together(x):
            nonlocal arrived
            arrived += 1
            if arrived == 2:
                both_here.set()
            else:
                await both_here.wait()
            raise NodeFailure(f"failure {x}")

        pipe = Pipeline(
            [
                node(fail_together, "one", "out1", name="n1"),
                node(fail_together, "two", "out2", name="n2"),
            ]
        )
        catalog = make_catalog(kind, {"one": MemoryDataset(1), "two": MemoryDataset(2)})
        with anyio.fail_after(GUARD), pytest.raises(NodeFailure) as excinfo:
            await make_runner(kind).arun(pipe, catalog)

        raised = str(excinfo.value)
        assert raised in {"failure 1", "failure 2"}
        other = "failure 2" if raised == "failure 1" else "failure 1"
        # The second node is already awake when the first fails: on asyncio its
        # task is cancelled before it raises, on trio it raises in the same step
        # and is noted. Either way one exception, never an ExceptionGroup.
        notes = getattr(excinfo.value, "__notes__", [])
        assert len(notes) <= 1
        assert all(other in note for note in notes)

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["sequential", "thread", "parallel"])
    async def test_cancelling_arun_cancels_the_nodes_in_flight(self, kind):
        started = anyio.Event()
        cancelled: list[str] = []
        saved: list[str] = []

        async def forever(x):
            started.set()
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.append("forever")
                raise

        def after(x):
            saved.append("after")
            return x

        pipe = Pipeline(
            [
                node(forever, "a", "b", name="forever"),
                node(after, "b", "c", name="after", executor="inline"),
            ]
        )
        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as group:
                group.start_soon(
                    make_runner(kind).arun,
                    pipe,
                    make_catalog(kind, {"a": MemoryDataset(1)}),
                )
                await started.wait()
                group.cancel_scope.cancel()

        assert cancelled == ["forever"]
        assert saved == []

    def test_sequential_runner_stops_at_the_failing_node(self):
        ran: list[str] = []

        def record(name):
            def run(x):
                ran.append(name)
                return x

            return run

        def failing(x):
            ran.append("failing")
            raise NodeFailure("stop")

        pipe = Pipeline(
            [
                node(record("a"), "a", "a_out", name="a"),
                node(failing, "a", "b_out", name="b"),
                node(record("c"), "a", "c_out", name="c"),
                node(identity, "b_out", "d_out", name="d"),
            ]
        )
        with pytest.raises(NodeFailure):
            SequentialRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}))
        assert ran == ["a", "failing"]
