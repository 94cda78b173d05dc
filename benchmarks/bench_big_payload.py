"""big_payload: large arrays produced in worker processes and reduced downstream.

Four nodes each produce a ~50 MB float64 numpy array; one downstream node sums
them. dagloop and Kedro run it on ``ParallelRunner(max_workers=2)`` with a
``SharedMemoryDataCatalog`` (every node runs in a worker process). Floors, on a
``ProcessPoolExecutor(2)`` started inside the timing (as both runners start
theirs per run), the arrays pickled back to the parent as the pool does:

* "sum in a worker": the four arrays made in workers, then summed in a worker,
  like the pipeline (every node in a process): the like-for-like floor the
  targets are checked against;
* "sum in the parent", for reference: the least data movement the stdlib
  offers for this job (the 200 MB never go back to a worker).

Every measurement runs in a fresh interpreter (``--worker``), once for time and
once, separately, for memory:

* time: wall time of ``runner.run()`` (of the floor), after a warm-up run with
  tiny arrays in the same interpreter;
* memory: the peak, over the whole run, of the summed PSS (proportional set
  size) of the measured interpreter and all its descendants (worker processes,
  Kedro's manager process), sampled every 10 ms by the benchmark process with
  psutil. PSS splits pages shared between processes (e.g. after ``fork``) among
  them, so the sum counts every page once; RSS would count fork-shared pages in
  every process, and ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the peak of the
  largest single child, not of the sum. Sampling can miss spikes shorter than a
  sampling period; a payload held across a step (tens of ms or more) is seen.
  The sampler is not running during the time measurements.

    python benchmarks/bench_big_payload.py --payload-mb 50 --payloads 4
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import (
    TIMES,
    check,
    configure_logging,
    engine_names,
    fmt,
    load_engine,
    run_worker,
    scenario_main,
    timed,
)
from _nodes import make_array, sum_arrays

if TYPE_CHECKING:
    import argparse

    from _harness import Recorder

NAME = "big_payload"
TITLE = "~50 MB numpy arrays across processes, ParallelRunner(2)"
WORKERS = 2
SAMPLE_S = 0.01
MIB = 2**20
TARGET_TIME = 1.2
TARGET_MEMORY = 1.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--payload-mb", type=float, default=50.0, help="MB per array")
    parser.add_argument("--payloads", type=int, default=4, help="producer nodes")


# ------------------------------------------------------------------ worker side


def expected(length: int, count: int) -> float:
    return float(length * sum(range(count)))


def _engine_runner(engine_name: str) -> Any:
    engine = load_engine(engine_name)
    configure_logging()
    p, io = engine.pipeline, engine.io

    def build(count: int) -> Any:
        nodes = [
            p.node(make_array, ["length", f"fill{i}"], f"array{i}", name=f"make{i}")
            for i in range(count)
        ]
        nodes.append(
            p.node(sum_arrays, [f"array{i}" for i in range(count)], "total", name="sum")
        )
        return p.Pipeline(nodes)

    def run(length: int, count: int) -> float:
        catalog = io.SharedMemoryDataCatalog(
            {
                "length": io.MemoryDataset(length),
                **{f"fill{i}": io.MemoryDataset(float(i)) for i in range(count)},
            }
        )
        runner = engine.runner.ParallelRunner(max_workers=WORKERS)
        pipe = build(count)
        seconds, out = timed(runner.run, pipe, catalog)
        check(out["total"].load() == expected(length, count), f"{engine_name} total")
        return seconds

    return run


def _floor_in_worker(length: int, count: int) -> float:
    with ProcessPoolExecutor(WORKERS) as pool:
        arrays = list(pool.map(make_array, [length] * count, map(float, range(count))))
        return pool.submit(sum_arrays, *arrays).result()


def _floor_in_parent(length: int, count: int) -> float:
    with ProcessPoolExecutor(WORKERS) as pool:
        arrays = list(pool.map(make_array, [length] * count, map(float, range(count))))
    return sum_arrays(*arrays)


FLOORS = {
    "floor": (_floor_in_worker, f"ProcessPoolExecutor({WORKERS}), sum in a worker"),
    "floor_parent": (
        _floor_in_parent,
        f"ProcessPoolExecutor({WORKERS}), sum in the parent",
    ),
}


def _floor_runner(name: str) -> Any:
    floor = FLOORS[name][0]

    def run(length: int, count: int) -> float:
        seconds, result = timed(floor, length, count)
        check(result == expected(length, count), f"{name} total")
        return seconds

    return run


def worker(engine_name: str, mode: str, length: int, count: int) -> dict[str, float]:
    """One measurement in this fresh interpreter (run with ``--worker``)."""
    configure_logging()
    import numpy  # noqa: F401  (imported before timing by every engine alike)

    if engine_name in FLOORS:
        run = _floor_runner(engine_name)
    else:
        run = _engine_runner(engine_name)
    if mode == "time":
        run(1000, count)  # warm-up: lazy imports, first-call caches
    return {"seconds": run(length, count)}


# ------------------------------------------------------------------ parent side


def _tree_pss(root: Any) -> int:
    """Summed PSS (bytes) of ``root`` and its descendants; RSS where PSS is missing."""
    import psutil

    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            info = process.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        except psutil.AccessDenied:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
    return total


def peak_memory(engine_name: str, length: int, count: int) -> tuple[float, float]:
    """``(peak MiB, seconds)`` of one run in a fresh interpreter, sampled from here."""
    import psutil

    command = [
        sys.executable,
        str(Path(__file__)),
        "--worker",
        engine_name,
        "memory",
        str(length),
        str(count),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    root = psutil.Process(child.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_pss(root))
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = child.communicate()
    stop.set()
    sampler.join()
    if child.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {child.returncode}"
        )
    seconds = json.loads(stdout.strip().splitlines()[-1])["seconds"]
    return peak / MIB, seconds


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    length = int(args.payload_mb * 1e6 / 8)
    count = args.payloads
    names = [*engine_names(rec), *FLOORS]
    rec.note(
        f"{count} arrays x {length * 8 / 1e6:.0f} MB ({length:,} float64) made in "
        f"worker processes, summed by a downstream node; {WORKERS} workers. Peak "
        "memory: summed PSS of the measured interpreter and all its children, sampled "
        "every 10 ms (absolute: interpreters and imports included)."
    )
    config = f"ParallelRunner({WORKERS})"
    memory = "peak memory (process tree PSS)"
    for rep in range(1, args.reps + 1):
        for name in names:
            engine, shown = (
                ("floor", FLOORS[name][1]) if name in FLOORS else (name, config)
            )
            seconds = run_worker(Path(__file__), name, "time", length, count)["seconds"]
            rec.add(engine, shown, "wall", seconds, "s")
            peak, _ = peak_memory(name, length, count)
            rec.add(engine, shown, memory, peak, "MiB")
            print(
                f"  rep {rep}/{args.reps}  {engine:<8} {shown:<40} wall {fmt(seconds)} s, "
                f"peak {fmt(peak)} MiB",
                flush=True,
            )

    floor = ("floor", FLOORS["floor"][1])
    parent = ("floor", FLOORS["floor_parent"][1])
    dagloop = ("dagloop", config)
    kedro = ("kedro", config)
    to_floor = rec.ratio(
        "dagloop / floor (sum in a worker), wall", (*dagloop, "wall"), (*floor, "wall")
    )
    mem_ratio = rec.ratio(
        "dagloop / floor (sum in a worker), peak memory",
        (*dagloop, memory),
        (*floor, memory),
    )
    rec.ratio(
        "dagloop / floor (sum in the parent), wall",
        (*dagloop, "wall"),
        (*parent, "wall"),
    )
    rec.ratio(
        "dagloop / floor (sum in the parent), peak memory",
        (*dagloop, memory),
        (*parent, memory),
    )
    rec.ratio("Kedro / dagloop, wall", (*kedro, "wall"), (*dagloop, "wall"))
    rec.ratio("Kedro / dagloop, peak memory", (*kedro, memory), (*dagloop, memory))
    rec.target("wall time / floor (sum in a worker)", to_floor, TARGET_TIME, TIMES)
    rec.target("peak memory / floor (sum in a worker)", mem_ratio, TARGET_MEMORY, TIMES)
    dask_transfers(rec, length, count, args.reps)


DASK = f"DaskRunner({WORKERS} local workers)"
#: Issue 11: intermediate data moved through the parent "near zero".
TARGET_DASK_MB = 1.0


def dask_transfers(rec: Recorder, length: int, count: int, reps: int) -> None:
    """The same pipeline on ``DaskRunner`` (a LocalCluster of WORKERS processes,
    started once): wall time, and what Dask's workers sent, read from their own
    transfer log (``Worker.transfer_outgoing_log``: every ``get_data`` answered,
    with who asked and how many bytes). Bytes sent to anything but another
    worker went to the parent (through the client or the scheduler); the free
    output is one float, so they are the intermediate data moved through it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        rec.note("distributed is not installed: no DaskRunner rows.")
        return
    from dagloop.io import DataCatalog, MemoryDataset
    from dagloop.pipeline import Pipeline, node
    from dagloop.runner import DaskRunner

    pipe = Pipeline(
        [
            node(make_array, ["length", f"fill{i}"], f"array{i}", name=f"make{i}")
            for i in range(count)
        ]
        + [node(sum_arrays, [f"array{i}" for i in range(count)], "total", name="sum")]
    )
    want = float(length * sum(range(count)))
    with (
        LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip

        def sent() -> dict[str, list[dict[str, Any]]]:
            """Each worker's transfer log: what it sent, to whom."""
            logs: dict[str, list[dict[str, Any]]] = client.run(
                lambda dask_worker: list(dask_worker.transfer_outgoing_log)
            )
            return logs

        workers = set(client.scheduler_info()["workers"])
        for rep in range(1, reps + 1):
            before = {worker: len(log) for worker, log in sent().items()}
            catalog = DataCatalog(
                {"length": MemoryDataset(length)}
                | {f"fill{i}": MemoryDataset(float(i)) for i in range(count)}
            )
            seconds, out = timed(DaskRunner(client=client).run, pipe, catalog)
            check(out["total"].load() == want, "dagloop DaskRunner")
            new = [
                entry
                for worker, log in sent().items()
                for entry in log[before.get(worker, 0) :]
            ]
            to_parent = sum(e["total"] for e in new if e["who"] not in workers) / 1e6
            between = sum(e["total"] for e in new if e["who"] in workers) / 1e6
            rec.add("dagloop", DASK, "wall", seconds, "s")
            rec.add(
                "dagloop", DASK, "intermediate MB through the parent", to_parent, "MB"
            )
            rec.add("dagloop", DASK, "MB between workers", between, "MB")
            print(
                f"  rep {rep}/{reps}  dagloop  {DASK:<40} wall {fmt(seconds)} s, "
                f"{fmt(to_parent)} MB to the parent, {fmt(between)} MB between workers",
                flush=True,
            )
    rec.target(
        "DaskRunner: intermediate MB through the parent (near zero)",
        rec.median("dagloop", DASK, "intermediate MB through the parent"),
        TARGET_DASK_MB,
        "MB",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        engine, mode, length, count = sys.argv[2:6]
        print(json.dumps(worker(engine, mode, int(length), int(count))))
    else:
        scenario_main(NAME, TITLE, add_arguments, measure)
