"""Incremental Execution: skip nodes whose persistent outputs already exist.

Reproduces the guide's "Incremental Execution" section on its example pipeline
raw → clean → process → train → evaluate, every output saved to a JSON file in the
work directory:

1. a first run with ``only_missing_outputs=True`` runs all five nodes;
2. a second run finds every output and runs nothing;
3. with the evaluate output deleted (clean, process and train outputs exist), only
   the evaluate node runs: raw, clean, process and train are skipped.

Run it with ``python examples/seed/incremental.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import DataCatalog, JSONDataset, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import SequentialRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"

#: Names of the nodes that ran, in order (SequentialRunner runs them in this process).
RAN: list[str] = []


# ----------------------------------------------------------------- the nodes


def extract_raw(source: list[list[float | None]]) -> list[list[float | None]]:
    RAN.append("raw")
    return [list(row) for row in source]


def clean_rows(raw: list[list[float | None]]) -> list[list[float]]:
    RAN.append("clean")
    return [[x, y] for x, y in raw if x is not None and y is not None]


def process_rows(rows: list[list[float]]) -> dict[str, list[float]]:
    RAN.append("process")
    return {"x": [x for x, _ in rows], "y": [y for _, y in rows]}


def train_model(features: dict[str, list[float]]) -> dict[str, float]:
    """Least-squares line through the points."""
    RAN.append("train")
    xs, ys = features["x"], features["y"]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return {"slope": slope, "intercept": mean_y - slope * mean_x}


def evaluate_model(
    model: dict[str, float], features: dict[str, list[float]]
) -> dict[str, float]:
    RAN.append("evaluate")
    errors = [
        (model["slope"] * x + model["intercept"] - y) ** 2
        for x, y in zip(features["x"], features["y"], strict=True)
    ]
    return {"mse": round(sum(errors) / len(errors), 9), "rows": len(errors)}


def create_pipeline() -> Pipeline:
    # Pipeline: raw → clean → process → train → evaluate
    return pipeline(
        [
            node(extract_raw, "source", "raw_data", name="raw"),
            node(clean_rows, "raw_data", "clean_data", name="clean"),
            node(process_rows, "clean_data", "features", name="process"),
            node(train_model, "features", "model", name="train"),
            node(evaluate_model, ["model", "features"], "metrics", name="evaluate"),
        ]
    )


def create_catalog(workdir: Path) -> DataCatalog:
    source = [[x, 2.0 * x + 1.0] for x in range(10)] + [[None, 3.0], [4.0, None]]
    return DataCatalog(
        {
            "source": MemoryDataset(source),
            **{
                name: JSONDataset(str(workdir / f"{name}.json"))
                for name in ("raw_data", "clean_data", "features", "model", "metrics")
            },
        }
    )


# ----------------------------------------------------------- the guide's code


def _incremental_run(
    label: str, runner: SequentialRunner, pipeline: Pipeline, catalog: DataCatalog
) -> dict[str, Any]:
    RAN.clear()
    outputs = runner.run(pipeline, catalog, only_missing_outputs=True)
    ran = list(RAN)
    print(f"{label}: ran {ran or 'nothing'}")
    return {"ran": ran, "outputs": sorted(outputs)}


def run_example(workdir: Path) -> dict[str, Any]:
    pipeline = create_pipeline()
    catalog = create_catalog(workdir)

    # Only run nodes whose outputs don't exist
    runner = SequentialRunner()
    first = _incremental_run("first run (no outputs yet)", runner, pipeline, catalog)
    second = _incremental_run(
        "second run (all outputs exist)", runner, pipeline, catalog
    )

    # If clean, process, train outputs exist but evaluate output missing:
    # - Runs only evaluate node
    # - Skips raw, clean, process, train nodes
    (workdir / "metrics.json").unlink()
    RAN.clear()
    runner.run(pipeline, catalog, only_missing_outputs=True)
    third = {"ran": list(RAN)}
    print(f"third run (metrics.json deleted): ran {third['ran']}")

    metrics = catalog.load("metrics")
    print(f"metrics = {metrics!r}")
    return {"first": first, "second": second, "third": third, "metrics": metrics}


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
        return run_example(workdir)


if __name__ == "__main__":
    main()
