"""request_latency: one pipeline run per "request", awaited on a running event loop.

A request is ``await ThreadRunner().arun(pipeline, catalog)`` of a 2-node pipeline:
an ``async def`` node (``ainc``) feeding a sync node with ``executor="process"``
(``inc``), with a fresh runner and catalog per request, as a web handler would
(the pipeline is built once, beforehand). N requests in a row inside one
``asyncio.run`` per repetition; reported: the median and the 90th percentile of the
N requests' latencies. Floor: the same work by hand, ``await ainc(x)`` then
``loop.run_in_executor`` on a ``ProcessPoolExecutor(1)`` created once, before the
repetitions, and warm. Kedro has no ``arun``: no Kedro rows.

    python benchmarks/bench_request_latency.py --latency-requests 50
"""

from __future__ import annotations

import asyncio
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from _harness import (
    TIMES,
    Case,
    check,
    interleave,
    load_engine,
    scenario_main,
    timed_async,
)
from _nodes import ainc, inc

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from _harness import Engine, Recorder, Row

NAME = "request_latency"
TITLE = "one arun() of an async -> process pipeline per request, latency"
POOL_WORKERS = 1  # requests come one at a time
TARGET_FLOOR = 2.0
DAGLOOP = "ThreadRunner().arun()"
FLOOR = f"await; warm ProcessPoolExecutor({POOL_WORKERS})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--latency-requests",
        type=int,
        default=50,
        help="requests per repetition (one at a time)",
    )


async def _requests(
    request: Callable[[int], Awaitable[int]], n: int
) -> tuple[list[float], list[int]]:
    """Await ``request(i)`` for i < n, one after the other: latencies and results."""
    latencies, results = [], []
    for i in range(n):
        start = time.perf_counter()
        results.append(await request(i))
        latencies.append(time.perf_counter() - start)
    return latencies, results


def latency_rows(latencies: list[float]) -> list[Row]:
    ordered = sorted(latencies)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return [
        ("median request", statistics.median(ordered) * 1e3, "ms"),
        ("p90 request", p90 * 1e3, "ms"),
    ]


def run_requests(
    request: Callable[[int], Awaitable[int]], n: int, what: str
) -> list[float]:
    _, (latencies, results) = timed_async(lambda: _requests(request, n))
    check(results == [i + 2 for i in range(n)], what)
    return latencies


def dagloop_case(engine: Engine, n: int) -> Case:
    p, io = engine.pipeline, engine.io
    pipe = p.Pipeline(
        [
            p.node(ainc, "x", "a", name="prepare"),
            p.node(inc, "a", "y", name="compute", executor="process"),
        ]
    )

    async def request(i: int) -> int:
        catalog = io.DataCatalog({"x": io.MemoryDataset(i)})
        out = await engine.runner.ThreadRunner().arun(pipe, catalog)
        result: int = out["y"].load()
        return result

    return Case(
        engine.name,
        DAGLOOP,
        lambda: latency_rows(run_requests(request, n, f"dagloop {DAGLOOP}")),
        lambda: run_requests(request, 2, f"dagloop {DAGLOOP}"),
    )


def floor_case(pool: ProcessPoolExecutor, n: int) -> Case:
    async def request(i: int) -> int:
        prepared = await ainc(i)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, inc, prepared)

    return Case(
        "floor",
        FLOOR,
        lambda: latency_rows(run_requests(request, n, FLOOR)),
        lambda: run_requests(request, 2, FLOOR),
    )


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n = args.latency_requests
    rec.note(
        f"{n} requests in a row per repetition, one event loop (asyncio) per "
        "repetition; a request = a fresh ThreadRunner and DataCatalog, then "
        "await arun() of [async def node -> sync node, executor='process']; "
        "the pipeline is built once. The floor's process pool is started once "
        "and warm. Kedro has no arun(): no Kedro rows."
    )
    with ProcessPoolExecutor(POOL_WORKERS) as pool:
        pool.submit(inc, 0).result()  # started and warm before any timing
        cases = [dagloop_case(load_engine("dagloop"), n), floor_case(pool, n)]
        interleave(rec, cases, args.reps)

    median, p90 = "median request", "p90 request"
    to_floor = rec.ratio(
        f"dagloop / floor, {median}",
        ("dagloop", DAGLOOP, median),
        ("floor", FLOOR, median),
    )
    rec.ratio(
        f"dagloop / floor, {p90}", ("dagloop", DAGLOOP, p90), ("floor", FLOOR, p90)
    )
    rec.target(
        "median request latency / warm ProcessPoolExecutor floor",
        to_floor,
        TARGET_FLOOR,
        TIMES,
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
