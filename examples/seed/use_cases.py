"""Choosing the Right Runner: the guide's "Examples by Use Case".

Reproduces, each on a small pipeline of its kind:

* Data Processing Pipeline (CPU-bound): ``ParallelRunner(max_workers=4)``.
* API Integration Pipeline (I/O-bound): ``ThreadRunner(max_workers=8)``.
* ML Training Pipeline (Mixed), with the "Pattern: Mixed Runner Strategy" code:
  preprocessing nodes (tagged ``"preprocessing"``) on ``ParallelRunner()``, then
  training nodes (tagged ``"training"``) on ``SequentialRunner()``, both selected
  from ``full_pipeline`` with ``only_nodes_with_tags``.
* Debugging: the whole ML pipeline on ``SequentialRunner()`` gives the same model.

Run it with ``python examples/seed/use_cases.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import DataCatalog, JSONDataset, MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"
PARTITIONS = 4
ENDPOINTS = 8


# ------------------------------------------------ data processing (CPU-bound)


def partition_stats(values: list[int]) -> dict[str, float]:
    """CPU work: statistics of one partition after a costly transform."""
    transformed = [(v * v) % 9973 for v in values]
    return {"count": len(transformed), "sum": sum(transformed)}


def merge_stats(*stats: dict[str, float]) -> dict[str, float]:
    return {
        "count": sum(s["count"] for s in stats),
        "sum": sum(s["sum"] for s in stats),
    }


def create_processing_pipeline() -> Pipeline:
    parts = [
        node(partition_stats, f"partition_{i}", f"stats_{i}", name=f"stats_{i}")
        for i in range(PARTITIONS)
    ]
    merged = node(
        merge_stats, [f"stats_{i}" for i in range(PARTITIONS)], "processing_report"
    )
    return pipeline([*parts, merged])


def create_processing_catalog() -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog(
        {
            f"partition_{i}": MemoryDataset(list(range(i * 50_000, (i + 1) * 50_000)))
            for i in range(PARTITIONS)
        }
    )


def expected_processing_report() -> dict[str, float]:
    values = range(PARTITIONS * 50_000)
    return {"count": len(values), "sum": sum((v * v) % 9973 for v in values)}


# ------------------------------------------------- API integration (I/O-bound)


def call_api(endpoint: str) -> dict[str, Any]:
    time.sleep(0.2)  # Simulated API call
    return {"endpoint": endpoint, "status": 200}


def collect_responses(*responses: dict[str, Any]) -> dict[str, int]:
    return {r["endpoint"]: r["status"] for r in responses}


def create_api_pipeline() -> Pipeline:
    calls = [
        node(call_api, f"endpoint_{i}", f"response_{i}", name=f"call_api_{i}")
        for i in range(ENDPOINTS)
    ]
    collect = node(
        collect_responses, [f"response_{i}" for i in range(ENDPOINTS)], "api_report"
    )
    return pipeline([*calls, collect])


def create_api_catalog() -> DataCatalog:
    return DataCatalog(
        {f"endpoint_{i}": MemoryDataset(f"/v1/items/{i}") for i in range(ENDPOINTS)}
    )


# ------------------------------------------------------ ML training (mixed)


def clean_split(rows: list[list[float | None]]) -> list[list[float]]:
    """Preprocessing: drop incomplete rows."""
    return [[x, y] for x, y in rows if x is not None and y is not None]


def scale(rows: list[list[float]]) -> list[list[float]]:
    """Preprocessing: x in tenths → x in units."""
    return [[x / 10.0, y] for x, y in rows]


def fit_line(train_rows: list[list[float]]) -> dict[str, float]:
    """Training: least-squares line (stands in for a single-GPU training job)."""
    xs = [x for x, _ in train_rows]
    ys = [y for _, y in train_rows]
    slope, intercept = statistics.linear_regression(xs, ys)
    return {"slope": round(slope, 9), "intercept": round(intercept, 9)}


def score(model: dict[str, float], test_rows: list[list[float]]) -> dict[str, float]:
    """Training: mean squared error on the test rows."""
    errors = [(model["slope"] * x + model["intercept"] - y) ** 2 for x, y in test_rows]
    return {"mse": round(sum(errors) / len(errors), 9), "rows": len(errors)}


def create_ml_pipeline() -> Pipeline:
    # Different runners for different pipeline stages
    preprocessing_pipe = pipeline(
        [
            node(clean_split, "raw_train", "clean_train", name="clean_train"),
            node(clean_split, "raw_test", "clean_test", name="clean_test"),
            node(scale, "clean_train", "train_rows", name="scale_train"),
            node(scale, "clean_test", "test_rows", name="scale_test"),
        ],
        tags=["preprocessing"],
    )
    training_pipe = pipeline(
        [
            node(fit_line, "train_rows", "model", name="fit_line"),
            node(score, ["model", "test_rows"], "metrics", name="score"),
        ],
        tags=["training"],
    )
    return preprocessing_pipe + training_pipe


def create_ml_catalog(model_path: Path) -> SharedMemoryDataCatalog:
    def rows(xs: range) -> list[list[float | None]]:
        return [[float(x), 2.0 * (x / 10.0) + 1.0] for x in xs] + [[None, 0.0]]

    return SharedMemoryDataCatalog(
        {
            "raw_train": MemoryDataset(rows(range(0, 80))),
            "raw_test": MemoryDataset(rows(range(80, 100))),
            "model": JSONDataset(str(model_path)),  # the trained model is kept
        }
    )


# ----------------------------------------------------------- the guide's code


def data_processing_pipeline() -> dict[str, Any]:
    pipeline = create_processing_pipeline()
    catalog = create_processing_catalog()

    # Parallel data transformations
    runner = ParallelRunner(max_workers=4)
    report = runner.run(pipeline, catalog)["processing_report"].load()
    print(f"CPU-bound, ParallelRunner(max_workers=4): processing_report = {report!r}")
    return {"report": report, "expected": expected_processing_report()}


def api_integration_pipeline() -> dict[str, Any]:
    pipeline = create_api_pipeline()
    catalog = create_api_catalog()

    # Parallel API calls
    runner = ThreadRunner(max_workers=8)
    report = runner.run(pipeline, catalog)["api_report"].load()
    print(f"I/O-bound, ThreadRunner(max_workers=8): api_report = {report!r}")
    return {"report": report}


def ml_training_pipeline(workdir: Path) -> dict[str, Any]:
    full_pipeline = create_ml_pipeline()
    catalog = create_ml_catalog(workdir / "model.json")

    # Use SequentialRunner for training (single GPU)
    # Use ParallelRunner for parallel data preprocessing
    preprocessing_runner = ParallelRunner()
    training_runner = SequentialRunner()

    # Parallel preprocessing
    preprocessed = preprocessing_runner.run(
        full_pipeline.only_nodes_with_tags("preprocessing"), catalog
    )

    # Sequential training
    trained = training_runner.run(
        full_pipeline.only_nodes_with_tags("training"), catalog
    )
    model = catalog.load("model")
    metrics = trained["metrics"].load()
    print(
        f"Mixed: preprocessing (ParallelRunner) produced {sorted(preprocessed)}; "
        f"training (SequentialRunner) produced model = {model!r}, "
        f"metrics = {metrics!r}"
    )
    return {
        "preprocessing_nodes": sorted(
            n.name for n in full_pipeline.only_nodes_with_tags("preprocessing").nodes
        ),
        "training_nodes": sorted(
            n.name for n in full_pipeline.only_nodes_with_tags("training").nodes
        ),
        "preprocessed": sorted(preprocessed),
        "model": model,
        "metrics": metrics,
    }


def debugging(workdir: Path) -> dict[str, Any]:
    full_pipeline = create_ml_pipeline()
    catalog = create_ml_catalog(workdir / "debug_model.json")

    # Always use SequentialRunner for debugging
    runner = SequentialRunner()
    outputs = runner.run(full_pipeline, catalog)
    model = catalog.load("model")
    metrics = outputs["metrics"].load()
    print(f"Debugging, SequentialRunner: model = {model!r}, metrics = {metrics!r}")
    return {"model": model, "metrics": metrics}


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
        return {
            "data_processing": data_processing_pipeline(),
            "api_integration": api_integration_pipeline(),
            "ml_training": ml_training_pipeline(workdir),
            "debugging": debugging(workdir),
        }


if __name__ == "__main__":
    main()
