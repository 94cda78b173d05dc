"""api_aggregation: N HTTP GETs (each answered after 50 ms) and one merge node.

The benchmark starts ``_http_server.py`` in its own process (loopback only,
keep-alive, listen backlog 4096), then measures, interleaved:

* Kedro: N fetch nodes calling a shared sync ``httpx.Client`` (a catalog input with
  ``copy_mode="assign"``), on ``ThreadRunner()`` (default workers: the CPU count)
  and ``ThreadRunner(64)``; "Kedro's best configuration" is the faster of the two;
* dagloop: N ``async def`` fetch nodes using the run's shared ``httpx.AsyncClient``
  (``dagloop.io.http_dataset.shared_http_client()``) on ``ThreadRunner()``;
  for reference, also Kedro's sync pipeline unchanged on dagloop's ``ThreadRunner(64)``;
* floors: one ``httpx.AsyncClient`` and ``asyncio.gather`` of the N GETs; for
  reference, a sync ``httpx.Client`` on a ``ThreadPoolExecutor(64)``.

Every client uses httpx's default pool limits (100 connections). Reported: wall
time (client creation and closing included) and requests per second.

    python benchmarks/bench_api_aggregation.py --requests 200 --server-delay-ms 50
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import TIMES, Case, check, engines, interleave, scenario_main, timed
from _nodes import fetch_async, fetch_sync, total

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from _harness import Engine, Recorder, Row

NAME = "api_aggregation"
TITLE = "HTTP GETs to a local 50 ms server + one merge node"
SERVER = Path(__file__).with_name("_http_server.py")
THREADS = 64
TARGET_FLOOR = 1.1
TARGET_KEDRO = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=200, help="fetch nodes")
    parser.add_argument(
        "--server-delay-ms", type=float, default=50.0, help="server answer delay"
    )


def start_server(delay: float) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"the HTTP server did not start: {line!r}")
    return server, int(line.split()[1])


def urls(port: int, n: int) -> list[str]:
    return [f"http://127.0.0.1:{port}/item/{i}" for i in range(n)]


def expected(n: int) -> int:
    return n * (n - 1) // 2


def rows(seconds: float, n: int) -> list[Row]:
    return [("wall", seconds, "s"), ("requests/s", n / seconds, "req/s")]


def sync_case(
    engine: Engine, config: str, max_workers: int | None, port: int, n: int
) -> Case:
    """Kedro's way: sync fetch nodes sharing one ``httpx.Client``."""
    import httpx

    def build(count: int) -> Any:
        p = engine.pipeline
        nodes = [
            p.node(fetch_sync, ["client", f"url_{i}"], f"r{i}", name=f"fetch{i}")
            for i in range(count)
        ]
        nodes.append(
            p.node(total, [f"r{i}" for i in range(count)], "merged", name="merge")
        )
        return p.Pipeline(nodes)

    def run_all(pipe: Any, count: int) -> Any:
        with httpx.Client() as client:
            memory = engine.io.MemoryDataset
            catalog = engine.io.DataCatalog(
                {
                    "client": memory(client, copy_mode="assign"),
                    **{f"url_{i}": memory(u) for i, u in enumerate(urls(port, count))},
                }
            )
            return engine.runner.ThreadRunner(max_workers=max_workers).run(
                pipe, catalog
            )

    return _engine_case(engine, config, build, run_all, n)


def async_case(engine: Engine, config: str, port: int, n: int) -> Case:
    """dagloop's way: async fetch nodes on the run's shared ``httpx.AsyncClient``."""

    def build(count: int) -> Any:
        p = engine.pipeline
        nodes = [
            p.node(fetch_async, f"url_{i}", f"r{i}", name=f"fetch{i}")
            for i in range(count)
        ]
        nodes.append(
            p.node(total, [f"r{i}" for i in range(count)], "merged", name="merge")
        )
        return p.Pipeline(nodes)

    def run_all(pipe: Any, count: int) -> Any:
        memory = engine.io.MemoryDataset
        catalog = engine.io.DataCatalog(
            {f"url_{i}": memory(u) for i, u in enumerate(urls(port, count))}
        )
        return engine.runner.ThreadRunner().run(pipe, catalog)

    return _engine_case(engine, config, build, run_all, n)


def _engine_case(
    engine: Engine,
    config: str,
    build: Callable[[int], Any],
    run_all: Callable[[Any, int], Any],
    n: int,
) -> Case:
    def run_once(pipe: Any, count: int) -> float:
        seconds, out = timed(run_all, pipe, count)
        check(out["merged"].load() == expected(count), f"{engine.name} {config}")
        return seconds

    pipe, small = build(n), build(4)
    return Case(
        engine.name,
        config,
        lambda: rows(run_once(pipe, n), n),
        lambda: run_once(small, 4),
    )


async def _gather(targets: list[str]) -> int:
    import httpx

    async with httpx.AsyncClient() as client:

        async def fetch(url: str) -> int:
            response = await client.get(url)
            response.raise_for_status()
            return int(response.json()["value"])

        return total(*await asyncio.gather(*(fetch(url) for url in targets)))


def floor_async(targets: list[str]) -> int:
    return asyncio.run(_gather(targets))


def floor_threads(targets: list[str]) -> int:
    import httpx

    with httpx.Client() as client, ThreadPoolExecutor(THREADS) as pool:
        return total(*pool.map(partial(fetch_sync, client), targets))


def floor_case(
    config: str, floor: Callable[[list[str]], int], port: int, n: int
) -> Case:
    targets = urls(port, n)

    def run() -> list[Row]:
        seconds, result = timed(floor, targets)
        check(result == expected(n), config)
        return rows(seconds, n)

    return Case("floor", config, run, lambda: floor(urls(port, 4)))


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n, delay = args.requests, args.server_delay_ms / 1000
    found = {e.name: e for e in engines(rec)}
    server, port = start_server(delay)
    try:
        rec.note(
            f"{n} GETs, each answered after {args.server_delay_ms:g} ms by a local "
            f"asyncio server in its own process; httpx default pool limits "
            f"(100 connections) everywhere; ThreadRunner() has "
            f"{os.cpu_count()} workers (the CPU count)."
        )
        kedro_default = "sync httpx.Client, ThreadRunner()"
        kedro_many = f"sync httpx.Client, ThreadRunner({THREADS})"
        dagloop_async = "async def + shared AsyncClient, ThreadRunner()"
        floor_gather = "httpx.AsyncClient + asyncio.gather"
        floor_pool = f"sync httpx.Client, ThreadPoolExecutor({THREADS})"
        cases = []
        if "kedro" in found:
            cases.append(sync_case(found["kedro"], kedro_default, None, port, n))
            cases.append(sync_case(found["kedro"], kedro_many, THREADS, port, n))
        cases.append(async_case(found["dagloop"], dagloop_async, port, n))
        cases.append(floor_case(floor_gather, floor_async, port, n))
        cases.append(sync_case(found["dagloop"], kedro_many, THREADS, port, n))
        cases.append(floor_case(floor_pool, floor_threads, port, n))
        interleave(rec, cases, args.reps)
    finally:
        server.terminate()
        server.wait()

    dagloop = ("dagloop", dagloop_async, "wall")
    to_floor = rec.ratio(
        f"dagloop ({dagloop_async}) / floor ({floor_gather})",
        dagloop,
        ("floor", floor_gather, "wall"),
    )
    kedro = {
        config: rec.median("kedro", config, "wall")
        for config in (kedro_default, kedro_many)
    }
    measured = {config: value for config, value in kedro.items() if value is not None}
    to_kedro = None
    if measured:
        best = min(measured, key=measured.__getitem__)
        rec.note(f"Kedro's best configuration: {best}.")
        rec.ratio(f"Kedro best ({best}) / dagloop", ("kedro", best, "wall"), dagloop)
        to_kedro = rec.ratio(
            f"dagloop / Kedro best ({best})", dagloop, ("kedro", best, "wall")
        )
    rec.ratio(
        f"dagloop ({kedro_many}) / floor ({floor_pool})",
        ("dagloop", kedro_many, "wall"),
        ("floor", floor_pool, "wall"),
    )
    rec.target(
        "async nodes / httpx.AsyncClient + gather floor", to_floor, TARGET_FLOOR, TIMES
    )
    rec.target(
        "async nodes / Kedro's best configuration", to_kedro, TARGET_KEDRO, TIMES
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
