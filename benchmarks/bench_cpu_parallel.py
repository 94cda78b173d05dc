"""cpu_parallel: independent pure-Python CPU nodes on two processes.

N independent nodes each running ``_nodes.burn(loops)`` (~0.4 s; the loop count is
calibrated once at start so that one call takes ``--cpu-seconds`` *in a child
process*) and one merge node. Measured, interleaved: ``SequentialRunner`` and
``ParallelRunner(max_workers=2)`` (with a ``SharedMemoryDataCatalog``) for dagloop
and Kedro; the floor is ``ProcessPoolExecutor(2)`` mapping the N calls, pool start
included (both runners start their worker processes per run). Reported: wall time
of ``runner.run()``.

    python benchmarks/bench_cpu_parallel.py --cpu-nodes 8 --cpu-seconds 0.4
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from _harness import TIMES, Case, check, engines, interleave, scenario_main, timed
from _nodes import burn, time_burn, total

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "cpu_parallel"
TITLE = "independent CPU-bound nodes, SequentialRunner vs ParallelRunner(2)"
WORKERS = 2
TARGET_FLOOR = 1.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cpu-nodes", type=int, default=8, help="CPU-bound nodes")
    parser.add_argument(
        "--cpu-seconds", type=float, default=0.4, help="seconds per node (calibrated)"
    )


def calibrate(seconds: float) -> tuple[int, float]:
    """A loop count taking ``seconds`` in a child process, and the measured time."""
    with ProcessPoolExecutor(1) as pool:
        loops = 200_000
        elapsed = pool.submit(time_burn, loops).result()
        while elapsed < 0.05:
            loops *= 4
            elapsed = pool.submit(time_burn, loops).result()
        loops = int(loops * seconds / elapsed)
        checks = sorted(pool.submit(time_burn, loops).result() for _ in range(3))
    return loops, checks[1]


def engine_case(
    engine: Engine, runner_name: str, loops: int, n: int, want: int
) -> Case:
    parallel = runner_name == "ParallelRunner"
    config = f"ParallelRunner({WORKERS})" if parallel else runner_name

    def build(count: int) -> Any:
        p = engine.pipeline
        nodes = [p.node(burn, "loops", f"c{i}", name=f"burn{i}") for i in range(count)]
        nodes.append(
            p.node(total, [f"c{i}" for i in range(count)], "merged", name="merge")
        )
        return p.Pipeline(nodes)

    def run_once(pipe: Any, count: int, loop_count: int, expect: int | None) -> float:
        io = engine.io
        catalog_type = io.SharedMemoryDataCatalog if parallel else io.DataCatalog
        catalog = catalog_type({"loops": io.MemoryDataset(loop_count)})
        runner = (
            engine.runner.ParallelRunner(max_workers=WORKERS)
            if parallel
            else engine.runner.SequentialRunner()
        )
        seconds, out = timed(runner.run, pipe, catalog)
        if expect is not None:
            check(out["merged"].load() == expect, f"{engine.name} {config}")
        return seconds

    pipe, small = build(n), build(2)
    return Case(
        engine.name,
        config,
        lambda: [("wall", run_once(pipe, n, loops, want), "s")],
        lambda: run_once(small, 2, 1000, None),
    )


def dask_case(client: Any, loops: int, n: int, want: int) -> Case:
    """``DaskRunner`` on a ``LocalCluster`` of ``WORKERS`` single-threaded worker
    processes, started once before the measurements (as a cluster would be)."""
    from dagloop import io, pipeline
    from dagloop.runner import DaskRunner

    def build(count: int) -> Any:
        nodes = [
            pipeline.node(burn, "loops", f"c{i}", name=f"burn{i}") for i in range(count)
        ]
        nodes.append(
            pipeline.node(
                total, [f"c{i}" for i in range(count)], "merged", name="merge"
            )
        )
        return pipeline.Pipeline(nodes)

    def run_once(pipe: Any, loop_count: int, expect: int | None) -> float:
        catalog = io.DataCatalog({"loops": io.MemoryDataset(loop_count)})
        seconds, out = timed(DaskRunner(client=client).run, pipe, catalog)
        if expect is not None:
            check(out["merged"].load() == expect, "dagloop DaskRunner")
        return seconds

    pipe, small = build(n), build(2)
    return Case(
        "dagloop",
        f"DaskRunner({WORKERS} local workers)",
        lambda: [("wall", run_once(pipe, loops, want), "s")],
        lambda: run_once(small, 1000, None),
    )


def floor_pool(loops: int, n: int) -> int:
    with ProcessPoolExecutor(WORKERS) as pool:
        return total(*pool.map(burn, [loops] * n))


def floor_case(loops: int, n: int, want: int) -> Case:
    def run() -> list[Row]:
        seconds, result = timed(floor_pool, loops, n)
        check(result == want, "floor")
        return [("wall", seconds, "s")]

    return Case(
        "floor", f"ProcessPoolExecutor({WORKERS})", run, lambda: floor_pool(1000, 2)
    )


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n = args.cpu_nodes
    loops, one_call = calibrate(args.cpu_seconds)
    rec.note(
        f"{n} nodes x burn({loops:,}) = {one_call:.3f} s each in a child process "
        f"(calibrated); ideal on {WORKERS} processes: "
        f"{one_call * -(-n // WORKERS):.2f} s."
    )
    want = burn(loops) * n
    found = engines(rec)
    cases = [engine_case(e, "SequentialRunner", loops, n, want) for e in found]
    cases += [engine_case(e, "ParallelRunner", loops, n, want) for e in found]
    cases.append(floor_case(loops, n, want))
    with ExitStack() as stack:
        client = _dask_client(stack, rec)
        if client is not None:
            cases.append(dask_case(client, loops, n, want))
        interleave(rec, cases, args.reps)

    parallel, floor = f"ParallelRunner({WORKERS})", f"ProcessPoolExecutor({WORKERS})"
    dagloop = ("dagloop", parallel, "wall")
    to_floor = rec.ratio(
        f"dagloop {parallel} / floor", dagloop, ("floor", floor, "wall")
    )
    rec.ratio(
        f"Kedro {parallel} / floor",
        ("kedro", parallel, "wall"),
        ("floor", floor, "wall"),
    )
    rec.ratio(f"Kedro / dagloop, {parallel}", ("kedro", parallel, "wall"), dagloop)
    rec.ratio(
        "Kedro / dagloop, SequentialRunner",
        ("kedro", "SequentialRunner", "wall"),
        ("dagloop", "SequentialRunner", "wall"),
    )
    rec.ratio(
        f"dagloop speed-up, SequentialRunner / {parallel}",
        ("dagloop", "SequentialRunner", "wall"),
        dagloop,
    )
    rec.target(f"{parallel} / ProcessPoolExecutor floor", to_floor, TARGET_FLOOR, TIMES)
    dask = ("dagloop", f"DaskRunner({WORKERS} local workers)", "wall")
    rec.ratio("dagloop DaskRunner / floor", dask, ("floor", floor, "wall"))
    rec.ratio("dagloop DaskRunner / dagloop ParallelRunner", dask, dagloop)


def _dask_client(stack: ExitStack, rec: Recorder) -> Any:
    """A client on a LocalCluster of WORKERS processes, or None without Dask."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        rec.note("distributed is not installed: no DaskRunner rows.")
        return None
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
    )
    return stack.enter_context(Client(cluster))


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
