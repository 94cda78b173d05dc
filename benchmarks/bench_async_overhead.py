"""async_overhead: engine overhead per node on trivial ``async def`` nodes.

N independent ``async def`` nodes (``ainc``: ``return x + 1``, no await inside),
all reading the one input ``x``, on ``ThreadRunner().arun()`` (async nodes run on
the event loop and take no thread). Reported: µs per node, the clock around the
await inside ``asyncio.run`` (loop start and close left out). Floor: an
``asyncio.gather`` of the same N coroutines, timed the same way. Kedro does not run
``async def`` nodes: no Kedro rows.

    python benchmarks/bench_async_overhead.py --async-nodes 2000
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from _harness import (
    TIMES,
    Case,
    check,
    interleave,
    load_engine,
    scenario_main,
    timed_async,
)
from _nodes import ainc

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "async_overhead"
TARGET_FLOOR = 3.0  # issue 9
TITLE = "independent trivial async def nodes, ThreadRunner().arun(), µs per node"
DAGLOOP = "ThreadRunner().arun()"
FLOOR = "asyncio.gather"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--async-nodes", type=int, default=2000, help="independent async def nodes"
    )


def engine_case(engine: Engine, n: int) -> Case:
    def build(width: int) -> Any:
        p = engine.pipeline
        return p.Pipeline(
            [p.node(ainc, "x", f"a{i}", name=f"n{i}") for i in range(width)]
        )

    def run_once(pipe: Any, width: int) -> float:
        catalog = engine.io.DataCatalog({"x": engine.io.MemoryDataset(0)})
        runner = engine.runner.ThreadRunner()
        seconds, out = timed_async(lambda: runner.arun(pipe, catalog))
        check(
            len(out) == width and all(d.load() == 1 for d in out.values()),
            f"{engine.name} {DAGLOOP}",
        )
        return seconds

    pipe, small = build(n), build(20)

    def run() -> list[Row]:
        return [("run", run_once(pipe, n) / n * 1e6, "µs/node")]

    return Case(engine.name, DAGLOOP, run, lambda: run_once(small, 20))


async def _gather(n: int) -> list[int]:
    return await asyncio.gather(*(ainc(0) for _ in range(n)))


def floor_case(n: int) -> Case:
    def run() -> list[Row]:
        seconds, result = timed_async(lambda: _gather(n))
        check(result == [1] * n, FLOOR)
        return [("run", seconds / n * 1e6, "µs/node")]

    return Case("floor", FLOOR, run, lambda: timed_async(lambda: _gather(20)))


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n = args.async_nodes
    rec.note(
        f"{n:,} independent async def nodes reading one input; µs per node; "
        "awaited inside asyncio.run (loop start and close left out); logging at "
        "WARNING. Kedro does not run async def nodes: no Kedro rows."
    )
    cases = [engine_case(load_engine("dagloop"), n), floor_case(n)]
    interleave(rec, cases, args.reps)
    to_floor = rec.ratio(
        f"dagloop {DAGLOOP} / floor {FLOOR}",
        ("dagloop", DAGLOOP, "run"),
        ("floor", FLOOR, "run"),
    )
    rec.target(f"{DAGLOOP} / {FLOOR}, per node", to_floor, TARGET_FLOOR, TIMES)


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
