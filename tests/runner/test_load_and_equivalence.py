"""Load, equivalence and soak.

* 100 ``arun()`` calls at once on one event loop, each with its own catalog:
  every result is right, nothing crosses between runs, no task is left, and the
  thread count does not grow with the number of runs (100 more reuse the idle
  pool threads the first 100 left, by design).
* A property test: random DAGs mixing async, inline, thread and process nodes
  produce exactly what ``SequentialRunner`` produces (and what a plain-Python
  evaluation of the DAG gives), in every runner, on asyncio, uvloop and trio.
* Soak (``-m soak``): runs back to back; memory, GC-tracked objects, open file
  descriptors and threads stay flat (second half compared with the first).
  ``DAGLOOP_SOAK_RUNS`` sets the number of runs: 200 by default, a few seconds
  in CI; 1000 is the full size (``DAGLOOP_SOAK_RUNS=1000 pytest -m soak``).
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import tracemalloc
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagloop.io import JSONDataset, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import SequentialRunner
from tests.runner._nodes import RUNNER_KINDS, make_catalog, make_runner
from tests.runner._reliability_nodes import (
    GUARD,
    amix,
    extra_threads,
    idle_pool_thread,
    mix,
)

if TYPE_CHECKING:
    from pathlib import Path


def running_task_ids() -> set[int]:
    """The tasks of this event loop (any backend)."""
    return {t.id for t in anyio.get_running_tasks()}


# ---------------------------------------------------------------- 100 at once

RUNS = 100
#: Threads the test harness itself may start between two rounds (see below).
THREAD_SLACK = 2


def load_pipeline(barrier: threading.Barrier) -> Pipeline:
    """An async node, a sync node in a thread, an async node; each run's sync
    node waits at ``barrier``, so every run of a round is in flight at once."""

    async def scale(x: int, k: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x * k

    def stamp(scaled: int, tag: str) -> tuple[str, int]:
        barrier.wait()
        return tag, scaled + 1

    async def finish(stamped: tuple[str, int], x: int) -> dict[str, Any]:
        await anyio.lowlevel.checkpoint()
        tag, value = stamped
        return {"tag": tag, "value": value, "x": x}

    return Pipeline(
        [
            node(scale, ["x", "k"], "scaled", name="scale"),
            node(stamp, ["scaled", "tag"], "stamped", name="stamp", executor="thread"),
            node(finish, ["stamped", "x"], "final", name="finish"),
        ]
    )


def expected(i: int) -> dict[str, Any]:
    return {"tag": f"run{i}", "value": i * (i % 7 + 1) + 1, "x": i}


async def concurrent_round(first: int) -> dict[int, Any]:
    """``RUNS`` concurrent runs (all three runners), numbered from ``first``."""
    barrier = threading.Barrier(RUNS, timeout=GUARD)
    pipe = load_pipeline(barrier)
    results: dict[int, Any] = {}
    catalogs: dict[int, Any] = {}

    async def one_run(i: int) -> None:
        kind = RUNNER_KINDS[i % 3]
        catalog = make_catalog(
            kind,
            {
                "x": MemoryDataset(i),
                "k": MemoryDataset(i % 7 + 1),
                "tag": MemoryDataset(f"run{i}"),
            },
        )
        catalogs[i] = catalog
        outputs = await make_runner(kind).arun(pipe, catalog)
        results[i] = {name: dataset.load() for name, dataset in outputs.items()}

    async with anyio.create_task_group() as group:
        for i in range(first, first + RUNS):
            group.start_soon(one_run, i)
    # Each catalog still holds its own inputs only: no cross-talk.
    for i, catalog in catalogs.items():
        assert catalog["x"].load() == i
        assert catalog["tag"].load() == f"run{i}"
    return results


async def pool_threads_idle(before: set[threading.Thread]) -> None:
    """Wait until every thread started since ``before`` is an idle pool worker.

    A pool thread hands its result to the loop a moment before it is back in
    its pool (asyncio's ``call_soon_threadsafe``, trio's thread cache), so a
    run can return while its worker is still on the way back: poll briefly.
    Fails, naming the threads, if one is still busy after ``GUARD`` seconds.
    """
    busy: set[threading.Thread] = set()
    with anyio.move_on_after(GUARD):
        while True:
            busy = {t for t in extra_threads(before) if not idle_pool_thread(t)}
            if not busy:
                return
            await anyio.sleep(0.01)
    assert busy == set()


class TestManyRunsAtOnce:
    @pytest.mark.anyio
    async def test_100_concurrent_aruns_in_one_loop(self):
        tasks_before = running_task_ids()
        threads_before = set(threading.enumerate())

        with anyio.fail_after(GUARD):
            first = await concurrent_round(0)
        assert first == {i: {"final": expected(i)} for i in range(RUNS)}
        # The threads left are idle pool workers, none inside dagloop or a node.
        await pool_threads_idle(threads_before)
        threads_after_first = threading.active_count()

        with anyio.fail_after(GUARD):
            second = await concurrent_round(RUNS)
        assert second == {i: {"final": expected(i)} for i in range(RUNS, 2 * RUNS)}
        await pool_threads_idle(threads_before)
        threads_after_second = threading.active_count()

        # Twice the runs, no more threads: the idle pool threads are reused. (Under
        # anyio's pytest plugin trio runs in guest mode and polls for I/O in a
        # thread of the same cache, which may take an idle thread at any moment:
        # a thread or two either way, against the 100 a second round without
        # reuse would add.)
        assert threads_after_second <= threads_after_first + THREAD_SLACK
        # No task outlives its run.
        assert running_task_ids() == tasks_before


# ------------------------------------------------------- random DAGs, any runner

#: How a node of a random DAG runs: "default" follows the runner (inline under
#: SequentialRunner.run, a thread under arun and ThreadRunner, a process under
#: ParallelRunner).
NODE_KINDS = ("async", "inline", "thread", "process", "default")
EXECUTOR = {"inline": "inline", "thread": "thread", "process": "process"}
#: Worker processes are slow to start: at most this many per DAG.
MAX_PROCESS_NODES = 2
FREE_INPUTS = ("in0", "in1", "in2")


@st.composite
def dags(draw: Any) -> tuple[list[tuple[str, list[str]]], dict[str, int]]:
    """``[(kind, input names)]`` for nodes ``n0..``, each making ``d<j>``, and the
    values of the free inputs."""
    nodes: list[tuple[str, list[str]]] = []
    processes = 0
    for j in range(draw(st.integers(1, 6))):
        available = [*FREE_INPUTS, *(f"d{k}" for k in range(j))]
        inputs = draw(
            st.lists(st.sampled_from(available), min_size=1, max_size=3, unique=True)
        )
        kind = draw(st.sampled_from(NODE_KINDS))
        if kind in ("process", "default"):
            if processes == MAX_PROCESS_NODES:
                kind = "thread"
            processes += kind != "thread"
        nodes.append((kind, inputs))
    values = {name: draw(st.integers(-(10**6), 10**6)) for name in FREE_INPUTS}
    return nodes, values


def build(spec: list[tuple[str, list[str]]]) -> Pipeline:
    return Pipeline(
        [
            node(
                amix if kind == "async" else mix,
                [f"s{j}", *inputs],
                f"d{j}",
                name=f"n{j}",
                executor=EXECUTOR.get(kind),
            )
            for j, (kind, inputs) in enumerate(spec)
        ]
    )


def evaluate(spec: list[tuple[str, list[str]]], values: dict[str, int]) -> dict:
    """The DAG computed in plain Python: every node's output."""
    data: dict[str, int] = dict(values)
    for j, (_kind, inputs) in enumerate(spec):
        data[f"d{j}"] = mix(j, *(data[name] for name in inputs))
    return {f"d{j}": data[f"d{j}"] for j in range(len(spec))}


class SaveLog(MemoryDataset):
    """A ``MemoryDataset`` that remembers every value saved to it."""

    def __init__(self, name: str, saves: dict[str, list[Any]]) -> None:
        super().__init__()
        self.name = name
        self.saves = saves

    def save(self, data: Any) -> None:
        self.saves.setdefault(self.name, []).append(data)
        super().save(data)


async def run_dag(
    runner_kind: str,
    spec: list[tuple[str, list[str]]],
    values: dict[str, int],
    runner: Any = None,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every save of every node output, and the free outputs returned."""
    saves: dict[str, list[Any]] = {}
    catalog = make_catalog(
        runner_kind,
        {
            **{name: MemoryDataset(value) for name, value in values.items()},
            **{f"s{j}": MemoryDataset(j) for j in range(len(spec))},
            **{f"d{j}": SaveLog(f"d{j}", saves) for j in range(len(spec))},
        },
    )
    runner = runner or make_runner(runner_kind)
    outputs = await runner.arun(build(spec), catalog)
    return saves, {name: dataset.load() for name, dataset in outputs.items()}


class TestRandomDagsMatchSequentialRunner:
    @pytest.mark.anyio
    @pytest.mark.parametrize("runner_kind", RUNNER_KINDS)
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(dag=dags())
    async def test_same_outputs(self, runner_kind, dag):
        spec, values = dag
        with anyio.fail_after(GUARD):
            reference, reference_outputs = await run_dag(
                "sequential", spec, values, SequentialRunner()
            )
            saves, outputs = await run_dag(runner_kind, spec, values)
        model = evaluate(spec, values)
        # Each output saved exactly once, with the value the DAG defines.
        assert reference == {name: [value] for name, value in model.items()}
        assert saves == reference
        assert outputs == reference_outputs
        assert set(outputs) == build(spec).outputs()


# ---------------------------------------------------------------------- soak

SOAK_RUNS = int(os.environ.get("DAGLOOP_SOAK_RUNS", "200"))
#: Seconds per run allowed by the per-test timeout (generous: a shared CI box).
SOAK_SECONDS_PER_RUN = 0.25
#: Resource use is sampled this many times over the runs (a full collection
#: each time, so not after every run).
SOAK_SAMPLES = 40
SAMPLE_EVERY = max(1, SOAK_RUNS // SOAK_SAMPLES)
#: Runs with a process node start a worker each (an interpreter that imports
#: the node's module: ~0.25 s here), so they soak a quarter as many runs.
PROCESS_SOAK_RUNS = max(SOAK_SAMPLES, SOAK_RUNS // 4)
PROCESS_SECONDS_PER_RUN = 1.0
PROCESS_SAMPLE_EVERY = max(1, PROCESS_SOAK_RUNS // SOAK_SAMPLES)

#: CPython's type attribute cache keeps up to 4096 attribute-name strings alive
#: (each ``getattr`` with a freshly built name takes a slot), so traced memory
#: creeps up by a bounded amount (< ~250 KiB) before it plateaus: allowed. Those
#: strings are not GC-tracked; anything a run left behind (a catalog, a task, a
#: frame) would be, so the GC object count gets a tight tolerance.
MEMORY_TOLERANCE = 256 * 1024
OBJECT_TOLERANCE = 50


class Samples:
    """Resource use after each run, once garbage is collected."""

    def __init__(self) -> None:
        self.memory: list[int] = []
        self.objects: list[int] = []
        self.fds: list[int] = []
        self.threads: list[int] = []

    def take(self) -> None:
        gc.collect()
        self.memory.append(tracemalloc.get_traced_memory()[0])
        self.objects.append(len(gc.get_objects()))
        self.fds.append(len(os.listdir("/proc/self/fd")))
        self.threads.append(threading.active_count())

    def check_flat(self) -> None:
        half = len(self.memory) // 2

        def halves(series: list[int]) -> tuple[list[int], list[int]]:
            return series[:half], series[half:]

        first, second = halves(self.memory)
        assert statistics.median(second) <= statistics.median(first) + (
            MEMORY_TOLERANCE
        ), (statistics.median(first), statistics.median(second))
        first, second = halves(self.objects)
        assert max(second) <= max(first) + OBJECT_TOLERANCE, (max(first), max(second))
        first, second = halves(self.fds)
        assert max(second) <= max(first), (max(first), max(second))
        first, second = halves(self.threads)
        assert max(second) <= max(first), (max(first), max(second))


def soak_pipeline() -> Pipeline:
    """Async, thread and inline nodes and a JSON file: loop, threads and fds."""
    return Pipeline(
        [
            node(amix, ["s0", "x"], "a", name="a"),
            node(mix, ["s1", "a"], "b", name="b", executor="thread"),
            node(mix, ["s2", "a", "b"], "c", name="c", executor="inline"),
            node(amix, ["s0", "c"], "d", name="d"),
        ]
    )


def soak_catalog(kind: str, i: int, tmp_path: Path) -> Any:
    return make_catalog(
        kind,
        {
            "x": MemoryDataset(i),
            **{f"s{j}": MemoryDataset(j) for j in range(3)},
            "c": JSONDataset(str(tmp_path / "c.json")),
        },
    )


def soak_expected(i: int) -> int:
    a = mix(0, i)
    return mix(0, mix(2, a, mix(1, a)))


@pytest.mark.soak
class TestSoak:
    @pytest.mark.timeout(max(60, SOAK_RUNS * SOAK_SECONDS_PER_RUN))
    def test_run_back_to_back(self, tmp_path):
        """``run()`` after ``run()``: each starts and closes its own loop."""
        samples = Samples()
        tracemalloc.start()
        try:
            for i in range(SOAK_RUNS):
                kind = RUNNER_KINDS[i % 3]
                result = make_runner(kind).run(
                    soak_pipeline(), soak_catalog(kind, i, tmp_path)
                )
                assert result["d"].load() == soak_expected(i)
                del result
                if i % SAMPLE_EVERY == SAMPLE_EVERY - 1:
                    samples.take()
        finally:
            tracemalloc.stop()
        samples.check_flat()

    @pytest.mark.timeout(max(60, PROCESS_SOAK_RUNS * PROCESS_SECONDS_PER_RUN))
    @pytest.mark.anyio
    async def test_arun_back_to_back_with_a_process_node(self, tmp_path):
        """``arun()`` after ``arun()`` on one loop, one node in a worker process:
        each run starts its worker and stops it at the end, so processes, pipes
        and fds must not pile up."""
        pipe = Pipeline(
            [
                *soak_pipeline().nodes,
                node(mix, ["s1", "d"], "e", name="e", executor="process"),
            ]
        )
        samples = Samples()
        tracemalloc.start()
        try:
            for i in range(PROCESS_SOAK_RUNS):
                kind = RUNNER_KINDS[i % 3]
                with anyio.fail_after(GUARD):
                    result = await make_runner(kind).arun(
                        pipe, soak_catalog(kind, i, tmp_path)
                    )
                assert result["e"].load() == mix(1, soak_expected(i))
                del result
                if i % PROCESS_SAMPLE_EVERY == PROCESS_SAMPLE_EVERY - 1:
                    samples.take()
        finally:
            tracemalloc.stop()
        samples.check_flat()
