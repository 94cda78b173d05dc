"""overhead_wide: engine overhead per node on a wide fan-out of trivial sync nodes.

N independent nodes ``x + 1`` (all reading the one input ``x``) and one gather node
summing their N outputs; ``SequentialRunner`` and ``ThreadRunner`` (default
workers: the CPU count). Reported: wall time of ``runner.run()`` divided by the
N + 1 nodes. Floors: a plain loop with a dict (for the sequential runners), and a
``ThreadPoolExecutor`` with the same number of workers mapping the N calls, pool
start included (for the thread runners: Kedro starts a pool per run).

    python benchmarks/bench_overhead_wide.py --wide-nodes 2000 --reps 3
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from _harness import Case, check, engines, interleave, scenario_main, timed
from _nodes import inc, total

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "overhead_wide"
TITLE = "independent trivial sync nodes + one gather node, µs per node"
TARGET_US = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide-nodes", type=int, default=2000, help="independent nodes"
    )


def expected(n: int) -> int:
    return n  # n nodes computing 0 + 1


def engine_case(engine: Engine, runner_name: str, n: int) -> Case:
    def build(width: int) -> Any:
        p = engine.pipeline
        nodes = [p.node(inc, "x", f"w{i}", name=f"n{i}") for i in range(width)]
        nodes.append(
            p.node(total, [f"w{i}" for i in range(width)], "sum", name="gather")
        )
        return p.Pipeline(nodes)

    def run_once(pipe: Any, width: int) -> float:
        catalog = engine.io.DataCatalog({"x": engine.io.MemoryDataset(0)})
        runner = getattr(engine.runner, runner_name)()
        seconds, out = timed(runner.run, pipe, catalog)
        check(out["sum"].load() == expected(width), f"{engine.name} {runner_name}")
        return seconds

    pipe, small = build(n), build(20)

    def run() -> list[Row]:
        return [("run", run_once(pipe, n) / (n + 1) * 1e6, "µs/node")]

    return Case(engine.name, runner_name, run, lambda: run_once(small, 20))


def floor_loop(n: int) -> int:
    data: dict[str, Any] = {"x": 0}
    names = [f"w{i}" for i in range(n)]
    for name in names:
        data[name] = inc(data["x"])
    return total(*(data[name] for name in names))


def floor_threads(n: int) -> int:
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        results = list(pool.map(inc, [0] * n))
    return total(*results)


def floor_case(config: str, floor: Any, n: int) -> Case:
    def run() -> list[Row]:
        seconds, result = timed(floor, n)
        check(result == expected(n), config)
        return [("run", seconds / (n + 1) * 1e6, "µs/node")]

    return Case("floor", config, run, run)


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n = args.wide_nodes
    workers = os.cpu_count()
    rec.note(
        f"{n:,} nodes + 1 gather; wall time of runner.run() / {n + 1:,}; "
        f"ThreadRunner default workers = CPU count = {workers}."
    )
    found = engines(rec)
    sequential = [engine_case(e, "SequentialRunner", n) for e in found]
    threaded = [engine_case(e, "ThreadRunner", n) for e in found]
    loop_config, pool_config = "plain loop + dict", f"ThreadPoolExecutor({workers})"
    cases = [
        *sequential,
        floor_case(loop_config, floor_loop, n),
        *threaded,
        floor_case(pool_config, floor_threads, n),
    ]
    interleave(rec, cases, args.reps)

    for runner, floor in (
        ("SequentialRunner", loop_config),
        ("ThreadRunner", pool_config),
    ):
        dagloop = ("dagloop", runner, "run")
        rec.ratio(
            f"dagloop / floor, {runner} vs {floor}", dagloop, ("floor", floor, "run")
        )
        rec.ratio(f"Kedro / dagloop, {runner}", ("kedro", runner, "run"), dagloop)
    rec.target(
        "overhead per node, SequentialRunner",
        rec.median("dagloop", "SequentialRunner", "run"),
        TARGET_US,
        "µs",
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
