"""io_fanout: many independent I/O-bound nodes, each waiting 20 ms.

N independent nodes (no dependencies), each sleeping 20 ms:

* sync ``time.sleep`` on ``ThreadRunner`` with its default workers (the CPU count)
  and with ``max_workers=64``, for dagloop and Kedro;
* ``async def`` with ``await asyncio.sleep`` on dagloop's ``ThreadRunner`` (async
  nodes run on the event loop and take no thread);
* floors: a ``ThreadPoolExecutor(64)`` running the N sleeps (pool start
  included), and ``asyncio.run`` of an ``asyncio.gather`` of the N coroutines;
* for reference, the primitive dagloop's thread nodes stand on: ``anyio.run`` of
  a task group calling ``anyio.to_thread.run_sync`` N times behind a 64-token
  ``CapacityLimiter`` (uvloop when installed, as dagloop's ``run()``), so the
  cost of the event loop's hand-offs is visible apart from dagloop's own.

Reported: wall time of ``runner.run()`` (of the floor call).

    python benchmarks/bench_io_fanout.py --fanout-nodes 500 --sleep-ms 20
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from _harness import TIMES, Case, check, engines, interleave, scenario_main, timed
from _nodes import sleep_async, sleep_sync

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from _harness import Engine, Recorder, Row

NAME = "io_fanout"
TITLE = "independent nodes waiting on I/O (sleep), threads vs async"
THREADS = 64
TARGET_ASYNC = 1.5
TARGET_THREADS = 1.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fanout-nodes", type=int, default=500, help="sleeping nodes")
    parser.add_argument("--sleep-ms", type=float, default=20.0, help="sleep per node")


def engine_case(
    engine: Engine,
    config: str,
    func: Callable[[float], Any],
    max_workers: int | None,
    n: int,
    seconds: float,
) -> Case:
    def build(width: int) -> Any:
        p = engine.pipeline
        return p.Pipeline(
            [p.node(func, "delay", f"s{i}", name=f"sleep{i}") for i in range(width)]
        )

    def run_once(pipe: Any, width: int) -> float:
        catalog = engine.io.DataCatalog({"delay": engine.io.MemoryDataset(seconds)})
        runner = engine.runner.ThreadRunner(max_workers=max_workers)
        elapsed, out = timed(runner.run, pipe, catalog)
        check(len(out) == width, f"{engine.name} {config}")
        return elapsed

    pipe, small = build(n), build(4)
    return Case(
        engine.name,
        config,
        lambda: [("wall", run_once(pipe, n), "s")],
        lambda: run_once(small, 4),
    )


def floor_threads(n: int, seconds: float) -> list[float]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(sleep_sync, [seconds] * n))


async def _anyio_threads(n: int, seconds: float) -> list[float]:
    limiter = anyio.CapacityLimiter(THREADS)
    results: list[float] = []

    async def one() -> None:
        results.append(
            await anyio.to_thread.run_sync(sleep_sync, seconds, limiter=limiter)
        )

    async with anyio.create_task_group() as group:
        for _ in range(n):
            group.start_soon(one)
    return results


def floor_anyio_threads(n: int, seconds: float) -> list[float]:
    uvloop = importlib.util.find_spec("uvloop") is not None
    return anyio.run(_anyio_threads, n, seconds, backend_options={"use_uvloop": uvloop})


async def _gather(n: int, seconds: float) -> list[float]:
    return await asyncio.gather(*(sleep_async(seconds) for _ in range(n)))


def floor_gather(n: int, seconds: float) -> list[float]:
    return asyncio.run(_gather(n, seconds))


def floor_case(
    config: str, floor: Callable[[int, float], list[float]], n: int, seconds: float
) -> Case:
    def run() -> list[Row]:
        elapsed, result = timed(floor, n, seconds)
        check(len(result) == n, config)
        return [("wall", elapsed, "s")]

    return Case("floor", config, run, lambda: floor(4, seconds))


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n, seconds = args.fanout_nodes, args.sleep_ms / 1000
    workers = os.cpu_count()
    rec.note(
        f"{n} nodes x {args.sleep_ms:g} ms; ideal: {n * seconds / THREADS:.3f} s on "
        f"{THREADS} threads, {seconds:.3f} s async; default ThreadRunner workers = "
        f"CPU count = {workers} (ideal {n * seconds / (workers or 1):.1f} s)."
    )
    found = engines(rec)
    default = f"sync, ThreadRunner() ({workers} workers)"
    many = f"sync, ThreadRunner({THREADS})"
    pool = f"sync, ThreadPoolExecutor({THREADS})"
    primitive = f"sync, anyio.to_thread + CapacityLimiter({THREADS})"
    asynchronous = "async def, ThreadRunner()"
    gather = "async def, asyncio.gather"
    cases = [engine_case(e, default, sleep_sync, None, n, seconds) for e in found]
    cases += [engine_case(e, many, sleep_sync, THREADS, n, seconds) for e in found]
    cases.append(floor_case(pool, floor_threads, n, seconds))
    cases.append(floor_case(primitive, floor_anyio_threads, n, seconds))
    cases.append(engine_case(found[0], asynchronous, sleep_async, None, n, seconds))
    cases.append(floor_case(gather, floor_gather, n, seconds))
    interleave(rec, cases, args.reps)

    rec.ratio(
        "Kedro / dagloop, " + default,
        ("kedro", default, "wall"),
        ("dagloop", default, "wall"),
    )
    threads = rec.ratio(
        f"dagloop {many} / floor {pool}",
        ("dagloop", many, "wall"),
        ("floor", pool, "wall"),
    )
    rec.ratio(
        f"floor {primitive} / floor {pool}",
        ("floor", primitive, "wall"),
        ("floor", pool, "wall"),
    )
    rec.ratio(
        f"dagloop {many} / floor {primitive}",
        ("dagloop", many, "wall"),
        ("floor", primitive, "wall"),
    )
    rec.ratio(
        f"Kedro {many} / floor {pool}", ("kedro", many, "wall"), ("floor", pool, "wall")
    )
    rec.ratio(
        "Kedro / dagloop, " + many, ("kedro", many, "wall"), ("dagloop", many, "wall")
    )
    coroutines = rec.ratio(
        f"dagloop {asynchronous} / floor {gather}",
        ("dagloop", asynchronous, "wall"),
        ("floor", gather, "wall"),
    )
    rec.ratio(
        f"Kedro {many} / dagloop {asynchronous}",
        ("kedro", many, "wall"),
        ("dagloop", asynchronous, "wall"),
    )
    rec.target(
        "async def nodes / asyncio.gather floor", coroutines, TARGET_ASYNC, TIMES
    )
    rec.target(
        f"sync nodes on {THREADS} threads / ThreadPoolExecutor({THREADS}) floor",
        threads,
        TARGET_THREADS,
        TIMES,
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
