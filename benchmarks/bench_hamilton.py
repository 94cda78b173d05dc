"""hamilton: dagloop and Apache Hamilton side by side on four workloads.

Hamilton builds its DAG from a module's functions, each parameter name naming the
node it depends on; the scenario writes each workload's module as source and loads
it with ``hamilton.ad_hoc_utils.module_from_source``. Drivers, like pipelines, are
built before timing; every run asks Hamilton for every output (``execute([...])``)
and dagloop returns every free output. Each workload is one interleaved run of
dagloop, Hamilton and a floor:

* **sync chain**: N trivial sync nodes ``x + 1`` in a chain; dagloop's
  ``SequentialRunner().run()`` vs Hamilton's ``driver.Builder()...build()``
  ``.execute()``; floor: a plain loop with a dict. µs per node. Hamilton walks the
  DAG recursively (one Python frame per node of the chain), so the scenario raises
  the recursion limit to fit the chain.
* **async sleeps**: N independent ``async def`` nodes awaiting ``asyncio.sleep``
  (20 ms); dagloop's ``ThreadRunner().arun()`` vs Hamilton's
  ``async_driver.Builder()...build()`` ``.execute()``, both awaited inside
  ``asyncio.run`` (the clock around the await only); floor: ``asyncio.gather``.
  Wall time.
* **trivial async**: N independent ``async def`` nodes ``return x + 1``, all
  reading one input; same engines and timing as the previous. µs per node.
* **sync sleeps, 64 threads**: N independent sync nodes ``time.sleep`` (20 ms);
  dagloop's ``ThreadRunner(max_workers=64).run()`` vs Hamilton's driver with
  ``hamilton.plugins.h_threadpool.FutureAdapter(max_workers=64)`` (it submits each
  node to its ``ThreadPoolExecutor``); floor: ``ThreadPoolExecutor(64)`` mapping the
  sleeps. The adapter's pool is made with the driver, and its threads start on
  first use, so a fresh driver is built (untimed) before each Hamilton run and its
  pool shut down after it: thread start is inside every engine's timing, as dagloop
  and the floor start their threads per run.

Ratios dagloop / Hamilton (lower is better for dagloop) and each / the floor.

    python benchmarks/bench_hamilton.py --hamilton-chain-nodes 2000
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from _chain import chain_case
from _harness import (
    TIMES,
    Case,
    check,
    interleave,
    load_engine,
    scenario_main,
    timed,
    timed_async,
)
from _nodes import ainc, inc, sleep_async, sleep_sync
from bench_io_fanout import floor_threads

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable
    from types import ModuleType

    from _harness import Engine, Recorder, Row

NAME = "hamilton"
TITLE = "dagloop vs Apache Hamilton: sync chain, async fan-outs, 64 threads"
THREADS = 64
CHAIN = "sync chain"
ASYNC_SLEEPS = "async sleeps"
ASYNC_TRIVIAL = "trivial async"
THREAD_SLEEPS = f"sync sleeps, {THREADS} threads"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hamilton-chain-nodes", type=int, default=2000, help="sync chain length"
    )
    parser.add_argument(
        "--hamilton-sleep-nodes",
        type=int,
        default=500,
        help="sleeping nodes (async sleeps, sync sleeps on threads)",
    )
    parser.add_argument(
        "--hamilton-sleep-ms", type=float, default=20.0, help="sleep per node"
    )
    parser.add_argument(
        "--hamilton-async-nodes",
        type=int,
        default=2000,
        help="trivial async def nodes",
    )


# ------------------------------------------------------------------ Hamilton


def hamilton_version() -> str | None:
    """Apache Hamilton's version (formerly ``sf-hamilton``), None when missing."""
    if importlib.util.find_spec("hamilton") is None:
        return None
    for distribution in ("apache-hamilton", "sf-hamilton"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown version"


def chain_source(length: int) -> str:
    return "\n\n".join(
        f"def d{i + 1}(d{i}: int) -> int:\n    return d{i} + 1\n" for i in range(length)
    )


def async_sleeps_source(width: int) -> str:
    return "import asyncio\n\n" + "\n\n".join(
        f"async def s{i}(delay: float) -> float:\n"
        "    await asyncio.sleep(delay)\n"
        "    return delay\n"
        for i in range(width)
    )


def async_trivial_source(width: int) -> str:
    return "\n\n".join(
        f"async def a{i}(x: int) -> int:\n    return x + 1\n" for i in range(width)
    )


def sync_sleeps_source(width: int) -> str:
    return "import time\n\n" + "\n\n".join(
        f"def s{i}(delay: float) -> float:\n    time.sleep(delay)\n    return delay\n"
        for i in range(width)
    )


def hamilton_module(name: str, source: str) -> ModuleType:
    """A module of generated node functions, registered as Hamilton requires."""
    from hamilton import ad_hoc_utils

    return ad_hoc_utils.module_from_source(source, module_name=name)


def hamilton_chain_case(n: int) -> Case:
    from hamilton import driver

    def build(length: int) -> Any:
        module = hamilton_module(f"bench_hamilton_chain_{length}", chain_source(length))
        return driver.Builder().with_modules(module).build()

    def run_once(dr: Any, length: int) -> float:
        last = f"d{length}"
        seconds, out = timed(lambda: dr.execute([last], inputs={"d0": 0}))
        check(out[last] == length, f"Hamilton {CHAIN}")
        return seconds

    dr, small = build(n), build(20)
    return Case(
        "hamilton",
        f"{CHAIN}: Driver.execute()",
        lambda: [("run", run_once(dr, n) / n * 1e6, "µs/node")],
        lambda: run_once(small, 20),
    )


def hamilton_async_case(
    workload: str,
    source: Callable[[int], str],
    prefix: str,
    inputs: dict[str, Any],
    want: Any,
    n: int,
    row: Callable[[float, int], Row],
) -> Case:
    from hamilton import async_driver

    def build(width: int) -> Any:
        module = hamilton_module(f"bench_hamilton_{prefix}_{width}", source(width))
        return asyncio.run(async_driver.Builder().with_modules(module).build())

    def run_once(dr: Any, width: int) -> float:
        names = [f"{prefix}{i}" for i in range(width)]
        seconds, out = timed_async(lambda: dr.execute(names, inputs=inputs))
        check(out == dict.fromkeys(names, want), f"Hamilton {workload}")
        return seconds

    dr, small = build(n), build(4)
    return Case(
        "hamilton",
        f"{workload}: AsyncDriver.execute()",
        lambda: [row(run_once(dr, n), n)],
        lambda: run_once(small, 4),
    )


def hamilton_threads_case(n: int, seconds: float) -> Case:
    from hamilton import driver
    from hamilton.plugins.h_threadpool import FutureAdapter

    modules = {n: hamilton_module(f"bench_hamilton_sleeps_{n}", sync_sleeps_source(n))}
    modules[4] = hamilton_module("bench_hamilton_sleeps_warmup", sync_sleeps_source(4))

    def run_once(width: int) -> float:
        adapter = FutureAdapter(max_workers=THREADS)
        dr = (
            driver.Builder().with_modules(modules[width]).with_adapters(adapter).build()
        )
        names = [f"s{i}" for i in range(width)]
        try:
            elapsed, out = timed(lambda: dr.execute(names, inputs={"delay": seconds}))
        finally:
            adapter.executor.shutdown(wait=True)
        check(out == dict.fromkeys(names, seconds), f"Hamilton {THREAD_SLEEPS}")
        return elapsed

    return Case(
        "hamilton",
        f"{THREAD_SLEEPS}: FutureAdapter({THREADS})",
        lambda: [("wall", run_once(n), "s")],
        lambda: run_once(4),
    )


# ------------------------------------------------------------------- dagloop


def dagloop_chain_case(engine: Engine, n: int) -> Case:
    return chain_case(engine, f"{CHAIN}: SequentialRunner.run()", n)


def dagloop_fanout_case(
    engine: Engine,
    workload: str,
    func: Callable[[Any], Any],
    value: Any,
    want: Any,
    max_workers: int | None,
    n: int,
    row: Callable[[float, int], Row],
) -> Case:
    """N independent nodes ``func(value)``; async ones awaited under ``arun()``."""
    awaited = max_workers is None
    config = (
        f"{workload}: ThreadRunner().arun()"
        if awaited
        else f"{workload}: ThreadRunner({max_workers}).run()"
    )

    def build(width: int) -> Any:
        p = engine.pipeline
        return p.Pipeline(
            [p.node(func, "value", f"o{i}", name=f"n{i}") for i in range(width)]
        )

    def run_once(pipe: Any, width: int) -> float:
        catalog = engine.io.DataCatalog({"value": engine.io.MemoryDataset(value)})
        runner = engine.runner.ThreadRunner(max_workers=max_workers)
        if awaited:
            seconds, out = timed_async(lambda: runner.arun(pipe, catalog))
        else:
            seconds, out = timed(runner.run, pipe, catalog)
        check(
            len(out) == width and all(d.load() == want for d in out.values()),
            f"dagloop {workload}",
        )
        return seconds

    pipe, small = build(n), build(4)
    return Case(
        "dagloop",
        config,
        lambda: [row(run_once(pipe, n), n)],
        lambda: run_once(small, 4),
    )


# -------------------------------------------------------------------- floors


def floor_chain(n: int) -> int:
    data = {"d0": 0}
    for i in range(n):
        data[f"d{i + 1}"] = inc(data[f"d{i}"])
    return data[f"d{n}"]


async def _gather(func: Callable[[Any], Awaitable[Any]], value: Any, n: int) -> Any:
    return await asyncio.gather(*(func(value) for _ in range(n)))


def floor_case(
    config: str,
    timed_floor: Callable[[int], tuple[float, Any]],
    want: Callable[[int], Any],
    n: int,
    row: Callable[[float, int], Row],
) -> Case:
    """``timed_floor(k)`` runs the floor on ``k`` nodes: ``(seconds, result)``."""

    def run() -> list[Row]:
        seconds, result = timed_floor(n)
        check(result == want(n), config)
        return [row(seconds, n)]

    return Case("floor", config, run, lambda: timed_floor(4))


# ----------------------------------------------------------------- workloads


def per_node(seconds: float, n: int) -> Row:
    return ("run", seconds / n * 1e6, "µs/node")


def wall(seconds: float, _: int) -> Row:
    return ("wall", seconds, "s")


@dataclass
class Workload:
    """One workload: how each engine's case is made (built only when measured)."""

    name: str
    row: Callable[[float, int], Row]
    dagloop: Callable[[], Case]
    hamilton: Callable[[], Case]
    floor: Callable[[], Case]


def workloads(args: argparse.Namespace, engine: Engine) -> list[Workload]:
    chain, sleepers = args.hamilton_chain_nodes, args.hamilton_sleep_nodes
    trivial, seconds = args.hamilton_async_nodes, args.hamilton_sleep_ms / 1000
    return [
        Workload(
            CHAIN,
            per_node,
            lambda: dagloop_chain_case(engine, chain),
            lambda: hamilton_chain_case(chain),
            lambda: floor_case(
                f"{CHAIN}: plain loop + dict",
                lambda k: timed(floor_chain, k),
                lambda k: k,
                chain,
                per_node,
            ),
        ),
        Workload(
            ASYNC_SLEEPS,
            wall,
            lambda: dagloop_fanout_case(
                engine,
                ASYNC_SLEEPS,
                sleep_async,
                seconds,
                seconds,
                None,
                sleepers,
                wall,
            ),
            lambda: hamilton_async_case(
                ASYNC_SLEEPS,
                async_sleeps_source,
                "s",
                {"delay": seconds},
                seconds,
                sleepers,
                wall,
            ),
            lambda: floor_case(
                f"{ASYNC_SLEEPS}: asyncio.gather",
                lambda k: timed_async(lambda: _gather(sleep_async, seconds, k)),
                lambda k: [seconds] * k,
                sleepers,
                wall,
            ),
        ),
        Workload(
            ASYNC_TRIVIAL,
            per_node,
            lambda: dagloop_fanout_case(
                engine, ASYNC_TRIVIAL, ainc, 0, 1, None, trivial, per_node
            ),
            lambda: hamilton_async_case(
                ASYNC_TRIVIAL, async_trivial_source, "a", {"x": 0}, 1, trivial, per_node
            ),
            lambda: floor_case(
                f"{ASYNC_TRIVIAL}: asyncio.gather",
                lambda k: timed_async(lambda: _gather(ainc, 0, k)),
                lambda k: [1] * k,
                trivial,
                per_node,
            ),
        ),
        Workload(
            THREAD_SLEEPS,
            wall,
            lambda: dagloop_fanout_case(
                engine,
                THREAD_SLEEPS,
                sleep_sync,
                seconds,
                seconds,
                THREADS,
                sleepers,
                wall,
            ),
            lambda: hamilton_threads_case(sleepers, seconds),
            lambda: floor_case(
                f"{THREAD_SLEEPS}: ThreadPoolExecutor({THREADS})",
                lambda k: timed(floor_threads, k, seconds),
                lambda k: [seconds] * k,
                sleepers,
                wall,
            ),
        ),
    ]


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    chain, sleepers = args.hamilton_chain_nodes, args.hamilton_sleep_nodes
    seconds = args.hamilton_sleep_ms / 1000
    rec.note(
        f"{CHAIN}: {chain:,} nodes; {ASYNC_SLEEPS} and {THREAD_SLEEPS}: "
        f"{sleepers} nodes x {args.hamilton_sleep_ms:g} ms (ideal "
        f"{seconds:.3f} s async, {sleepers * seconds / THREADS:.3f} s on "
        f"{THREADS} threads); {ASYNC_TRIVIAL}: {args.hamilton_async_nodes:,} nodes. "
        "One interleaved run per workload. Logging at WARNING. Kedro on the same "
        "shapes: overhead_chain, io_fanout."
    )
    version = hamilton_version()
    if version is None:
        rec.note(
            "Apache Hamilton is not installed: Hamilton rows are skipped (install "
            "the bench extra: pip install -e '.[bench]')."
        )
    else:
        rec.note(f"Apache Hamilton {version}.")
    # Hamilton computes a node after its dependencies, recursively: a frame each.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2 * chain + 1000))

    for work in workloads(args, load_engine("dagloop")):
        print(f"-- {work.name}", flush=True)
        ours, bottom = work.dagloop(), work.floor()
        theirs = work.hamilton() if version else None
        interleave(rec, [ours, *([theirs] if theirs else []), bottom], args.reps)
        metric = work.row(1.0, 1)[0]
        dagloop = ("dagloop", ours.config, metric)
        floor = ("floor", bottom.config, metric)
        if theirs is not None:
            hamilton = ("hamilton", theirs.config, metric)
            ahead = rec.ratio(f"dagloop / Hamilton, {work.name}", dagloop, hamilton)
            rec.target(f"dagloop / Hamilton, {work.name}", ahead, 1.0, TIMES)
        rec.ratio(f"dagloop / floor, {work.name}", dagloop, floor)
        if theirs is not None:
            rec.ratio(f"Hamilton / floor, {work.name}", hamilton, floor)


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
