"""Where cpu_parallel's time goes: each node's start and end, per worker process.

Runs the cpu_parallel workload (8 x ``burn``, 2 workers) on dagloop's
``ParallelRunner(2)`` and on a ``ProcessPoolExecutor(2)``, alternately, and prints
for each run the wall time, when each worker's first node started (worker
start-up), the mean node duration, and the gaps between consecutive nodes of one
worker (hand-off cost).

    python benchmarks/cpu_parallel_timeline.py --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

from _nodes import timed_burn

from dagloop.io import MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner

Span = tuple[int, float, float]


def summary(name: str, wall: float, origin: float, spans: list[Span]) -> str:
    by_worker: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for pid, start, end in spans:
        by_worker[pid].append((start - origin, end - origin))
    first = sorted(min(s for s, _ in runs) for runs in by_worker.values())
    durations = [end - start for _, start, end in spans]
    gaps = [
        later[0] - earlier[1]
        for runs in by_worker.values()
        for earlier, later in zip(sorted(runs), sorted(runs)[1:], strict=False)
    ]
    return (
        f"{name:<22} wall {wall:.3f} s | first node starts at "
        f"{', '.join(f'{f:.3f}' for f in first)} s | node {statistics.mean(durations):.3f} s "
        f"(mean) | hand-off {statistics.mean(gaps) * 1000:.1f} ms (mean)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--loops", type=int, default=5_487_990, help="burn() size")
    parser.add_argument("--nodes", type=int, default=8)
    args = parser.parse_args()
    pipe = Pipeline(
        [node(timed_burn, "n", f"o{i}", name=f"burn{i}") for i in range(args.nodes)]
    )
    for _ in range(args.reps):
        catalog = SharedMemoryDataCatalog({"n": MemoryDataset(args.loops)})
        origin = time.time()
        outputs = ParallelRunner(max_workers=2).run(pipe, catalog)
        wall = time.time() - origin
        spans = [dataset.load() for dataset in outputs.values()]
        print(summary("dagloop ParallelRunner", wall, origin, spans))
        origin = time.time()
        with ProcessPoolExecutor(2) as pool:
            spans = list(pool.map(timed_burn, [args.loops] * args.nodes))
        wall = time.time() - origin
        print(summary("ProcessPoolExecutor", wall, origin, spans))


if __name__ == "__main__":
    main()
