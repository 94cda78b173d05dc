"""Thread-Based Parallel Execution: ThreadRunner for I/O-bound pipelines.

Reproduces the guide's "Thread-Based Parallel Execution" section:

* Usage: ``ThreadRunner()`` and ``ThreadRunner(max_workers=8)``, reading the result
  with ``outputs["my_output"].load()``.
* Example: I/O-Bound Pipeline: two simulated API calls (``time.sleep(1)`` each) and
  a merge on ``ThreadRunner(max_workers=2)`` complete in about 1 second instead of
  about 2. Each fetch records when it started and ended, so the overlap is shown
  directly; the same pipeline on ``SequentialRunner`` is timed for comparison.

Run it with ``python examples/seed/thread_io.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"

#: ``{function name: (start, end)}`` of the latest call, on ``time.perf_counter``.
TIMELINE: dict[str, tuple[float, float]] = {}


# ------------------------------------------------------- nodes for the usage


def download(page: str) -> str:
    time.sleep(0.1)  # Simulated file download
    return f"<contents of {page}>"


def summarise(*pages: str) -> dict[str, Any]:
    return {"pages": len(pages), "characters": sum(len(p) for p in pages)}


def create_usage_pipeline() -> Pipeline:
    pages = [f"page_{i}" for i in range(8)]
    downloads = [
        node(download, page, f"{page}_text", name=f"download_{page}") for page in pages
    ]
    return pipeline(
        [*downloads, node(summarise, [f"{p}_text" for p in pages], "my_output")]
    )


def create_usage_catalog() -> DataCatalog:
    return DataCatalog(
        {f"page_{i}": MemoryDataset(f"https://example.com/{i}") for i in range(8)}
    )


# ----------------------------------------------------------- the guide's code


def usage() -> dict[str, Any]:
    pipeline = create_usage_pipeline()
    catalog = create_usage_catalog()

    # Use default number of workers
    runner = ThreadRunner()
    outputs = runner.run(pipeline, catalog)
    # Access data using .load()
    result = outputs["my_output"].load()
    print(f"ThreadRunner(): my_output = {result!r}")
    default_result = result

    # Specify max workers
    runner = ThreadRunner(max_workers=8)
    outputs = runner.run(pipeline, catalog)
    result = outputs["my_output"].load()
    print(f"ThreadRunner(max_workers=8): my_output = {result!r}")
    return {"default_workers": default_result, "max_workers_8": result}


def fetch_api_a():
    started = time.perf_counter()
    time.sleep(1)  # Simulated API call
    TIMELINE["fetch_api_a"] = (started, time.perf_counter())
    return {"source": "api_a"}


def fetch_api_b():
    started = time.perf_counter()
    time.sleep(1)  # Simulated API call
    TIMELINE["fetch_api_b"] = (started, time.perf_counter())
    return {"source": "api_b"}


def merge_data(data_a, data_b):
    return {**data_a, **data_b}


def create_io_pipeline() -> Pipeline:
    # Create pipeline
    pipeline_io = pipeline(
        [
            node(fetch_api_a, None, "data_a"),
            node(fetch_api_b, None, "data_b"),
            node(merge_data, ["data_a", "data_b"], "merged"),
        ]
    )
    return pipeline_io


def _timed_run(runner: Any, pipeline_io: Pipeline) -> dict[str, Any]:
    TIMELINE.clear()
    catalog = DataCatalog()
    start = time.perf_counter()
    outputs = runner.run(pipeline_io, catalog)
    elapsed = time.perf_counter() - start
    (a_start, a_end), (b_start, b_end) = (
        TIMELINE["fetch_api_a"],
        TIMELINE["fetch_api_b"],
    )
    overlapped = a_start < b_end and b_start < a_end
    name = type(runner).__name__
    print(
        f"{name}: merged = {outputs['merged'].load()!r} in {elapsed:.2f}s; "
        f"fetches overlapped: {overlapped}"
    )
    return {
        "merged": outputs["merged"].load(),
        "elapsed": elapsed,
        "timeline": dict(TIMELINE),
        "overlapped": overlapped,
    }


def io_bound_example() -> dict[str, Any]:
    pipeline_io = create_io_pipeline()

    # Run with ThreadRunner
    runner = ThreadRunner(max_workers=2)
    threaded = _timed_run(runner, pipeline_io)
    # Completes in ~1 second instead of ~2 seconds

    # For comparison: one fetch after the other.
    sequential = _timed_run(SequentialRunner(), pipeline_io)
    return {"thread_runner": threaded, "sequential_runner": sequential}


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
        return {"usage": usage(), "io_bound": io_bound_example()}


if __name__ == "__main__":
    main()
