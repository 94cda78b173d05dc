"""Common Patterns: dynamic worker count and conditional parallelism.

Reproduces the guide's "Pattern: Dynamic Worker Count" (``get_optimal_workers``
feeding ``ParallelRunner(max_workers=get_optimal_workers("cpu"))``) and "Pattern:
Conditional Parallelism" (``run_pipeline(pipeline, catalog, data_size)`` choosing
``ParallelRunner(max_workers=4)`` above 1,000,000 rows, else ``SequentialRunner``).
The node reports the process it ran in, which shows the runner that was chosen.
("Pattern: Mixed Runner Strategy" is in use_cases.py.)

Run it with ``python examples/seed/patterns.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"
SMALL_DATA = 10_000
LARGE_DATA = 1_500_000


# ----------------------------------------------------------------- the nodes


def summarise_rows(n_rows: int) -> dict[str, int]:
    """CPU work over ``n_rows`` generated rows; says which process did it."""
    return {
        "rows": n_rows,
        "checksum": sum(i % 7 for i in range(n_rows)),
        "pid": os.getpid(),
    }


def create_pipeline() -> Pipeline:
    return pipeline([node(summarise_rows, "n_rows", "summary", name="summarise")])


def create_catalog(n_rows: int) -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog({"n_rows": MemoryDataset(n_rows)})


# ----------------------------------------------------------- the guide's code


def get_optimal_workers(task_type):
    cpu_count = os.cpu_count() or 1

    if task_type == "cpu":
        return cpu_count
    elif task_type == "io":
        return cpu_count * 2
    else:
        return 1


def dynamic_worker_count() -> dict[str, Any]:
    workers = {t: get_optimal_workers(t) for t in ("cpu", "io", "other")}
    print(f"get_optimal_workers: {workers!r} (os.cpu_count() = {os.cpu_count()})")

    # Use dynamically
    runner = ParallelRunner(max_workers=get_optimal_workers("cpu"))
    summary = runner.run(create_pipeline(), create_catalog(SMALL_DATA))[
        "summary"
    ].load()
    in_worker = summary["pid"] != os.getpid()
    print(
        f"ParallelRunner(max_workers={workers['cpu']}): rows={summary['rows']}, "
        f"checksum={summary['checksum']}, ran in a worker process: {in_worker}"
    )
    return {"workers": workers, "summary": summary, "in_worker": in_worker}


# Use parallel execution only for large datasets
def run_pipeline(pipeline, catalog, data_size):
    if data_size > 1000000:
        runner = ParallelRunner(max_workers=4)
    else:
        runner = SequentialRunner()

    return runner.run(pipeline, catalog)


def conditional_parallelism() -> dict[str, Any]:
    results = {}
    for data_size in (SMALL_DATA, LARGE_DATA):
        outputs = run_pipeline(create_pipeline(), create_catalog(data_size), data_size)
        summary = outputs["summary"].load()
        in_worker = summary["pid"] != os.getpid()
        runner = "ParallelRunner" if in_worker else "SequentialRunner"
        print(
            f"run_pipeline(data_size={data_size}): checksum={summary['checksum']}, "
            f"ran in a worker process: {in_worker} ({runner})"
        )
        results[data_size] = {"summary": summary, "in_worker": in_worker}
    return results


# ------------------------------------------------------------------ plumbing


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=os.environ.get(WORKDIR_ENV),
        help=f"directory for files the example writes (default: ${WORKDIR_ENV}, "
        "else a temporary directory removed afterwards)",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="dagloop-seed-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse_args(argv)
    with _workdir(args.workdir):  # this example writes no files
        return {
            "dynamic_worker_count": dynamic_worker_count(),
            "conditional_parallelism": conditional_parallelism(),
        }


if __name__ == "__main__":
    main()
