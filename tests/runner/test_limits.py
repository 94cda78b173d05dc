"""Per-tag concurrency limits: ``limits={"api": 4, "db": 1}`` on every runner.

Each test observes the most nodes carrying a tag that were ever in flight at once
(``InFlight`` counters) *and* forces that many to be in flight together (barriers,
events), so it fails both when a limit is ignored (the peak is higher) and when it
is too strict or serialises everything (the barrier never fills: the guards turn
that deadlock into a failure).
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.runner._nodes import RUNNER_KINDS, identity, make_catalog, make_runner
from tests.runner._reliability_nodes import (
    GUARD,
    InFlight,
    count_at_barrier,
    process_counter,
    wait_until,
)

CONCURRENT_RUNNERS = ("thread", "parallel")


# --------------------------------------------------- the issue's own example


class ApiDb:
    """12 "api" nodes, 4 "db" nodes and 4 untagged ones, all sync, all ready at once.

    * "api" nodes wait at a ``Barrier(4)``: they pass only when 4 are in flight.
      They cannot finish before a "db" node has started either.
    * "db" nodes hold on until every "api" node is done: without a limit every
      one of them would be in flight meanwhile (16 threads are available).
    * untagged nodes wait at a ``Barrier(4)`` too: limits must not touch them.
    """

    API, DB, FREE = 12, 4, 4

    def __init__(self) -> None:
        self.api = InFlight()
        self.db = InFlight()
        self.free = InFlight()
        self.api_barrier = threading.Barrier(4, timeout=GUARD)
        self.free_barrier = threading.Barrier(4, timeout=GUARD)
        self.db_started = threading.Event()
        self.api_done = threading.Event()
        self._lock = threading.Lock()
        self._api_finished = 0

    def _api(self, name: str) -> Any:
        def api(x: Any) -> Any:
            self.api.enter(name)
            self.api_barrier.wait()
            if not self.db_started.wait(GUARD):
                raise RuntimeError("no db node ever started")
            self.api.leave(name)
            with self._lock:
                self._api_finished += 1
                if self._api_finished == self.API:
                    self.api_done.set()
            return x

        return api

    def _db(self, name: str) -> Any:
        def db(x: Any) -> Any:
            self.db.enter(name)
            self.db_started.set()
            if not self.api_done.wait(GUARD):
                raise RuntimeError("the api nodes never finished")
            self.db.leave(name)
            return x

        return db

    def _free(self, name: str) -> Any:
        def free(x: Any) -> Any:
            self.free.enter(name)
            self.free_barrier.wait()
            self.free.leave(name)
            return x

        return free

    def pipeline(self) -> Pipeline:
        nodes = [
            node(self._api(f"api{i}"), "a", f"api{i}", name=f"api{i}", tags="api")
            for i in range(self.API)
        ]
        nodes += [
            node(self._db(f"db{i}"), "a", f"db{i}", name=f"db{i}", tags="db")
            for i in range(self.DB)
        ]
        nodes += [
            node(self._free(f"free{i}"), "a", f"free{i}", name=f"free{i}")
            for i in range(self.FREE)
        ]
        return Pipeline(nodes)

    def check(self, result: dict[str, Any]) -> None:
        assert self.api.peak == 4
        assert self.db.peak == 1
        assert self.free.peak == 4
        assert len(result) == self.API + self.DB + self.FREE
        assert all(dataset.load() == 1 for dataset in result.values())


class TestThreadRunnerExample:
    def test_run(self):
        example = ApiDb()
        runner = ThreadRunner(max_workers=16, limits={"api": 4, "db": 1})
        result = runner.run(example.pipeline(), DataCatalog({"a": MemoryDataset(1)}))
        example.check(result)

    @pytest.mark.anyio
    async def test_arun(self):
        example = ApiDb()
        runner = ThreadRunner(max_workers=16, limits={"api": 4, "db": 1})
        with anyio.fail_after(GUARD):
            result = await runner.arun(
                example.pipeline(), DataCatalog({"a": MemoryDataset(1)})
            )
        example.check(result)


# ----------------------------------------------------------- async nodes


def capped_async_nodes(in_flight: InFlight, limit: int, count: int) -> Pipeline:
    """``count`` async nodes tagged "api"; they go on only once ``limit`` are in."""
    limit_reached = anyio.Event()

    def make(name: str) -> Any:
        async def call_api(x: Any) -> Any:
            if in_flight.enter(name) == limit:
                limit_reached.set()
            await limit_reached.wait()
            # Every task that can start gets to run up to its first wait here.
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            in_flight.leave(name)
            return x

        return call_api

    return Pipeline(
        [
            node(make(f"n{i}"), "a", f"out{i}", name=f"n{i}", tags=["api", "io"])
            for i in range(count)
        ]
    )


class TestAsyncNodes:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    async def test_at_most_limit_async_nodes_with_the_tag_run_at_once(
        self, runner_kind
    ):
        in_flight = InFlight()
        pipe = capped_async_nodes(in_flight, 3, 9)
        with anyio.fail_after(GUARD):
            result = await make_runner(runner_kind, limits={"api": 3}).arun(
                pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
            )
        assert in_flight.peak == 3
        assert len(result) == 9

    @pytest.mark.anyio
    async def test_limits_and_max_concurrency_combine(self):
        """The stricter bound wins: max_concurrency=2 under a limit of 3."""
        in_flight = InFlight()
        pipe = capped_async_nodes(in_flight, 2, 8)
        with anyio.fail_after(GUARD):
            await ThreadRunner(max_concurrency=2, limits={"api": 3}).arun(
                pipe, DataCatalog({"a": MemoryDataset(1)})
            )
        assert in_flight.peak == 2

    @pytest.mark.anyio
    async def test_sequential_runner_accepts_limits(self):
        in_flight = InFlight()
        pipe = capped_async_nodes(in_flight, 1, 4)
        with anyio.fail_after(GUARD):
            result = await SequentialRunner(limits={"api": 3}).arun(
                pipe, DataCatalog({"a": MemoryDataset(1)})
            )
        assert in_flight.peak == 1
        assert len(result) == 4


# --------------------------------------------------------- process nodes


class TestProcessNodes:
    def test_parallel_runner_limits_worker_processes_by_tag(self):
        """Six process nodes, four workers allowed, a limit of two on their tag:
        the peak across processes is two, and two is reached (a barrier of two)."""
        with process_counter(parties=2) as (ref, state, _barrier):
            pipe = Pipeline(
                [
                    node(
                        count_at_barrier,
                        ["ref", "a"],
                        f"pid{i}",
                        name=f"cpu{i}",
                        tags="cpu",
                    )
                    for i in range(6)
                ]
            )
            catalog = make_catalog(
                "parallel", {"ref": MemoryDataset(ref), "a": MemoryDataset(1)}
            )
            result = ParallelRunner(max_workers=4, limits={"cpu": 2}).run(pipe, catalog)
            assert state["peak"] == 2
            assert state["now"] == 0
        assert len(result) == 6


# ------------------------------------------------------- mixed node kinds


class TestMixedKindsShareALimit:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    async def test_async_and_thread_nodes_with_one_tag_never_overlap(self, runner_kind):
        db = InFlight()
        fillers = InFlight()
        filler_barrier = threading.Barrier(4, timeout=GUARD)
        gate = threading.Event()  # opens once the fillers are done
        done = []

        def filler(name: str) -> Any:
            def fill(x: Any) -> Any:
                fillers.enter(name)
                filler_barrier.wait()
                fillers.leave(name)
                done.append(name)
                if len(done) == 4:
                    gate.set()
                return x

            return fill

        async def db_async(x: Any) -> Any:
            db.enter("db_async")
            await wait_until(gate.is_set)
            db.leave("db_async")
            return x

        def db_thread(x: Any) -> Any:
            db.enter("db_thread")
            if not gate.wait(GUARD):
                raise RuntimeError("the gate never opened")
            db.leave("db_thread")
            return x

        pipe = Pipeline(
            [
                node(db_async, "a", "o1", name="db_async", tags="db"),
                node(
                    db_thread, "a", "o2", name="db_thread", tags="db", executor="thread"
                ),
                *(
                    node(filler(f"f{i}"), "a", f"f{i}", name=f"f{i}", executor="thread")
                    for i in range(4)
                ),
            ]
        )
        with anyio.fail_after(GUARD):
            await make_runner(runner_kind, max_workers=8, limits={"db": 1}).arun(
                pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
            )
        assert db.peak == 1
        assert db.overlaps == {"db_async": set(), "db_thread": set()}
        assert fillers.peak == 4


# --------------------------------------------------- several limited tags


class TestSeveralTags:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    async def test_a_node_with_several_limited_tags_holds_a_slot_of_each(
        self, runner_kind
    ):
        """``both`` (tags a and b) never runs alongside ``only_a`` or ``only_b``.

        Every node, once in, waits until every other task of the loop is blocked:
        a node that a missing slot did not hold back has entered by then, so an
        overlap cannot go unseen. ``only_a`` and ``only_b`` (distinct tags) do
        run together whenever ``both`` is not running first.
        """
        in_flight = InFlight()

        def make(name: str) -> Any:
            async def run(x: Any) -> Any:
                in_flight.enter(name)
                await anyio.wait_all_tasks_blocked()
                in_flight.leave(name)
                return x

            return run

        pipe = Pipeline(
            [
                node(make("both"), "x", "o_both", name="both", tags=["a", "b", "c"]),
                node(make("only_a"), "x", "o_a", name="only_a", tags="a"),
                node(make("only_b"), "x", "o_b", name="only_b", tags="b"),
            ]
        )
        with anyio.fail_after(GUARD):
            result = await make_runner(runner_kind, limits={"a": 1, "b": 1}).arun(
                pipe, make_catalog(runner_kind, {"x": MemoryDataset(1)})
            )
        assert len(result) == 3
        assert in_flight.overlaps["both"] == set()
        assert "both" not in in_flight.overlaps["only_a"] | in_flight.overlaps["only_b"]

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", CONCURRENT_RUNNERS)
    async def test_nodes_with_distinct_limited_tags_run_together(self, runner_kind):
        """The control for the test above: a limit only holds back its own tag."""
        in_flight = InFlight()
        both_in = anyio.Event()

        def make(name: str) -> Any:
            async def run(x: Any) -> Any:
                if in_flight.enter(name) == 2:
                    both_in.set()
                await both_in.wait()  # deadlocks unless a and b run at once
                in_flight.leave(name)
                return x

            return run

        pipe = Pipeline(
            [
                node(make("only_a"), "x", "o_a", name="only_a", tags="a"),
                node(make("only_b"), "x", "o_b", name="only_b", tags="b"),
            ]
        )
        with anyio.fail_after(GUARD):
            await make_runner(runner_kind, limits={"a": 1, "b": 1}).arun(
                pipe, make_catalog(runner_kind, {"x": MemoryDataset(1)})
            )
        assert in_flight.peak == 2

    @pytest.mark.anyio
    async def test_overlapping_tag_sets_never_deadlock(self):
        """Nodes tagged (a, b) and (b, a) in any order: slots are taken in one
        order, so two such nodes never wait on each other."""
        in_flight = InFlight()

        def make(name: str) -> Any:
            async def run(x: Any) -> Any:
                in_flight.enter(name)
                for _ in range(3):
                    await anyio.lowlevel.checkpoint()
                in_flight.leave(name)
                return x

            return run

        pipe = Pipeline(
            [
                node(make(f"n{i}"), "x", f"o{i}", name=f"n{i}", tags=tags)
                for i, tags in enumerate([["a", "b"], ["b", "a"], ["b"], ["a"]] * 3)
            ]
        )
        with anyio.fail_after(GUARD):
            result = await ThreadRunner(limits={"a": 1, "b": 1}).arun(
                pipe, DataCatalog({"x": MemoryDataset(1)})
            )
        assert len(result) == 12
        assert in_flight.peak <= 2


# ---------------------------------------------------------------- per run


class TestLimitsArePerRun:
    @pytest.mark.anyio
    async def test_two_concurrent_runs_each_have_their_own_slots(self):
        in_flight = InFlight()
        both_in = anyio.Event()

        async def call(x: Any) -> Any:
            if in_flight.enter(f"run{x}") == 2:
                both_in.set()
            await both_in.wait()  # deadlocks if the runs shared one slot
            in_flight.leave(f"run{x}")
            return x

        runner = ThreadRunner(limits={"api": 1})
        pipe = Pipeline([node(call, "x", "y", name="call", tags="api")])
        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as group:
                for i in (1, 2):
                    group.start_soon(
                        runner.arun, pipe, DataCatalog({"x": MemoryDataset(i)})
                    )
        assert in_flight.peak == 2


# -------------------------------------------------------- unused limits


class TestUnusedLimitTag:
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    def test_run_warns_and_names_the_tag(self, runner_kind):
        pipe = Pipeline([node(identity, "a", "b", name="n", tags="api")])
        runner = make_runner(runner_kind, limits={"api": 2, "gpu": 1})
        with pytest.warns(UserWarning, match="limited tag") as record:
            result = runner.run(
                pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
            )
        (warning,) = record
        message = str(warning.message)
        assert "['gpu']" in message
        assert "api" not in message  # the used tag is not reported
        assert "limits=" in message  # where to look
        assert result["b"].load() == 1  # the run goes on

    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    async def test_arun_warns(self, runner_kind):
        pipe = Pipeline([node(identity, "a", "b", name="n")])
        runner = make_runner(runner_kind, limits={"gpu": 1, "db": 3})
        with pytest.warns(UserWarning, match=r"\['db', 'gpu'\]"):
            await runner.arun(pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)}))

    def test_no_warning_when_every_limited_tag_is_used(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1", tags="api"),
                node(identity, "b", "c", name="n2", tags=["db", "x"]),
            ]
        )
        # filterwarnings = error: any warning fails this test.
        ThreadRunner(limits={"api": 2, "db": 1}).run(
            pipe, DataCatalog({"a": MemoryDataset(1)})
        )
