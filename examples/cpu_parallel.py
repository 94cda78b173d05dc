"""CPU-bound preprocessing in worker processes, then a sequential training step.

The shape of many Kedro projects: heavy pure-Python feature engineering over
independent partitions, then one model fit that needs all of it. On
``ParallelRunner`` every sync node runs in a worker process, so the partitions
are featurised on all cores at once. The training step is marked
``executor="inline"``: it runs in the parent process, on the runner's own
thread, after all partitions are done — one pipeline, one run, no need to split
it into a "parallel" and a "sequential" half.

The features: for each number ``n``, the length of its Collatz sequence (a
pure-Python loop, so it holds the GIL: threads would not help). The model: a
least-squares line ``steps ≈ slope · ln(n) + intercept``.

Node functions are module-level (worker processes import them by name), and the
run is started under ``if __name__ == "__main__":`` because each worker process
imports this module. For comparison, the same pipeline also runs on
``SequentialRunner``; both timings and the pids are printed.

Run it:  python examples/cpu_parallel.py [--partitions 4 --size 40000]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from typing import Any

from dagloop.io import MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner

# ------------------------------------------------------------------- the nodes


def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def featurise(numbers: range) -> dict[str, Any]:
    """CPU-bound: one feature row per number. Runs in a worker process."""
    start = time.process_time()  # CPU time of this process, not wall time
    rows = [(math.log(n), collatz_steps(n)) for n in numbers]
    return {"rows": rows, "pid": os.getpid(), "seconds": time.process_time() - start}


def train(*partitions: dict[str, Any]) -> dict[str, Any]:
    """Sequential: fit one line through every partition's rows (inline)."""
    xs = [x for part in partitions for x, _ in part["rows"]]
    ys = [y for part in partitions for _, y in part["rows"]]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return {
        "model": {
            "slope": round(slope, 6),
            "intercept": round(mean_y - slope * mean_x, 6),
            "rows": len(xs),
        },
        "train_pid": os.getpid(),
        "featurise_pids": [part["pid"] for part in partitions],
        "featurise_seconds": [round(part["seconds"], 3) for part in partitions],
    }


def build_pipeline(partitions: int) -> Pipeline:
    return pipeline(
        [
            *[
                node(featurise, f"numbers_{i}", f"features_{i}", name=f"featurise_{i}")
                for i in range(partitions)
            ],
            node(
                train,
                [f"features_{i}" for i in range(partitions)],
                "training",
                name="train",
                executor="inline",  # not a worker process: the parent, in order
            ),
        ]
    )


def build_catalog(partitions: int, size: int) -> SharedMemoryDataCatalog:
    # ParallelRunner asks for a SharedMemoryDataCatalog, as Kedro's does.
    catalog = SharedMemoryDataCatalog()
    for i in range(partitions):
        catalog[f"numbers_{i}"] = MemoryDataset(range(1 + i * size, 1 + (i + 1) * size))
        # The feature tables are large and nobody mutates them: store them as they
        # are instead of deep-copying them on every save and load (MemoryDataset's
        # default, as in Kedro), which would cost more than half a second here.
        catalog[f"features_{i}"] = MemoryDataset(copy_mode="assign")
    return catalog


# ------------------------------------------------------------------------ main


def timed(runner: Any, partitions: int, size: int) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    outputs = runner.run(build_pipeline(partitions), build_catalog(partitions, size))
    return outputs["training"].load(), time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--size", type=int, default=40_000, help="numbers each")
    args = parser.parse_args(argv)
    print(
        f"{args.partitions} partitions of {args.size} numbers; "
        f"{os.cpu_count()} CPU(s); parent pid {os.getpid()}"
    )

    parallel, parallel_time = timed(ParallelRunner(), args.partitions, args.size)
    print(f"ParallelRunner:   {parallel_time:6.2f} s")
    for i, (pid, seconds) in enumerate(
        zip(parallel["featurise_pids"], parallel["featurise_seconds"], strict=True)
    ):
        print(f"  featurise_{i} ran in pid {pid} ({seconds:.2f} s of CPU time)")
    print(f"  train ran in pid {parallel['train_pid']} (inline, in the parent)")

    sequential, sequential_time = timed(SequentialRunner(), args.partitions, args.size)
    print(f"SequentialRunner: {sequential_time:6.2f} s (all in pid {os.getpid()})")
    print(f"speed-up: {sequential_time / parallel_time:.1f}x")

    print(f"model = {parallel['model']}")
    print(f"same model both ways: {parallel['model'] == sequential['model']}")
    print(f"parent pid = {os.getpid()}")
    print(f"featurise pids = {parallel['featurise_pids']}")
    print(f"train pid = {parallel['train_pid']}")
    return {"parallel": parallel, "sequential": sequential, "parent_pid": os.getpid()}


if __name__ == "__main__":
    main()
