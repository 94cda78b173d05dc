"""Best Practices: debug sequentially, match the runner to the workload, profile.

Reproduces the guide's "Best Practices" section:

1. Start with SequentialRunner: debug the pipeline with ``SequentialRunner()``.
2. Match Runner to Workload: ``ParallelRunner()`` for CPU-intensive processing,
   ``ThreadRunner()`` for API calls and file I/O, ``SequentialRunner()`` for
   debugging and simple workflows.
3. Profile Before Optimizing: the loop over the three runners, printing each one's
   time (and, to show they agree, the result each produced).
4. Consider Memory Usage: advice only (see the comments in ``main``).

Run it with ``python examples/seed/best_practices.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"


# ----------------------------------------------------------------- the nodes


def checksum(values: list[int]) -> int:
    """CPU-intensive data processing."""
    return sum((v * 2654435761) % 2**32 for v in values) % 1_000_003


def write_report(path: str, low: int, high: int) -> str:
    """File I/O: writes the report and returns where it went."""
    Path(path).write_text(json.dumps({"low": low, "high": high}))
    return path


def read_report(path: str) -> dict[str, int]:
    """File I/O: reads the report back."""
    return json.loads(Path(path).read_text())


def create_pipeline() -> Pipeline:
    return pipeline(
        [
            node(checksum, "low_values", "low", name="checksum_low"),
            node(checksum, "high_values", "high", name="checksum_high"),
            node(write_report, ["report_path", "low", "high"], "written", name="write"),
            node(read_report, "written", "report", name="read"),
        ]
    )


def create_catalog(workdir: Path) -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog(
        {
            "low_values": MemoryDataset(list(range(0, 100_000))),
            "high_values": MemoryDataset(list(range(100_000, 200_000))),
            "report_path": MemoryDataset(str(workdir / "report.json")),
        }
    )


# ----------------------------------------------------------- the guide's code


def start_with_sequential_runner(pipeline: Pipeline, catalog: Any) -> dict[str, Any]:
    # Debug with SequentialRunner first
    runner = SequentialRunner()
    runner.run(pipeline, catalog)

    # Then optimize with parallel runners
    report = catalog.load("report")
    print(f"1. SequentialRunner: report = {report!r}")
    return report


def match_runner_to_workload(pipeline: Pipeline, catalog: Any) -> dict[str, Any]:
    cpu_part = pipeline.only_nodes("checksum_low", "checksum_high")
    io_part = pipeline.only_nodes("write", "read")

    # CPU-intensive data processing
    runner = ParallelRunner()
    runner.run(cpu_part, catalog)
    cpu = {"low": catalog.load("low"), "high": catalog.load("high")}

    # API calls, file I/O
    runner = ThreadRunner()
    report = runner.run(io_part, catalog)["report"].load()

    # Debugging, simple workflows
    runner = SequentialRunner()
    debug_report = runner.run(pipeline, catalog)["report"].load()
    print(f"2. ParallelRunner (CPU part): {cpu!r}")
    print(f"2. ThreadRunner (I/O part): report = {report!r}")
    print(f"2. SequentialRunner (whole pipeline): report = {debug_report!r}")
    return {"cpu": cpu, "io_report": report, "debug_report": debug_report}


def profile_before_optimizing(pipeline: Pipeline, catalog: Any) -> dict[str, Any]:
    reports = {}

    # Measure actual performance
    for runner_type in [SequentialRunner(), ParallelRunner(), ThreadRunner()]:
        catalog.release("report")  # (so the report read below is this run's)
        start = time.time()
        runner_type.run(pipeline, catalog)
        print(f"{runner_type.__class__.__name__}: {time.time() - start:.2f}s")
        reports[runner_type.__class__.__name__] = catalog.load("report")

    print(f"3. reports per runner: {reports!r}")
    return reports


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
    with _workdir(args.workdir) as workdir:
        pipeline = create_pipeline()
        catalog = create_catalog(workdir)
        results = {
            "start_with_sequential_runner": start_with_sequential_runner(
                pipeline, catalog
            ),
            "match_runner_to_workload": match_runner_to_workload(pipeline, catalog),
            "profile_before_optimizing": profile_before_optimizing(pipeline, catalog),
        }
        # 4. Consider Memory Usage
        # ParallelRunner creates copies in each process
        # Can use significant memory for large datasets
        # Monitor memory usage and adjust max_workers
        return results


if __name__ == "__main__":
    main()
