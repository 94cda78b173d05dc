"""Sequential Execution: run a pipeline one node at a time with SequentialRunner.

Reproduces the guide's "Sequential Execution" usage: ``runner.run()`` returns a
dict of dataset names to dataset objects, and ``.load()`` gives the data.

Run it with ``python examples/seed/sequential.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import SequentialRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"


# ----------------------------------------------------------------- the nodes


def clean(raw_rows: list[str]) -> list[str]:
    """Drop blank rows, trim and lower-case the rest."""
    return [row.strip().lower() for row in raw_rows if row.strip()]


def count_words(rows: list[str]) -> dict[str, int]:
    """How many words each row has."""
    return {row: len(row.split()) for row in rows}


def create_pipeline() -> Pipeline:
    return pipeline(
        [
            node(clean, "raw_rows", "clean_rows", name="clean"),
            node(count_words, "clean_rows", "my_output", name="count_words"),
        ]
    )


def create_catalog() -> DataCatalog:
    return DataCatalog(
        {"raw_rows": MemoryDataset(["  Hello World ", "", "Sequential Runs Are Easy"])}
    )


# ----------------------------------------------------------- the guide's code


def run_example() -> dict[str, Any]:
    pipeline = create_pipeline()
    catalog = create_catalog()

    runner = SequentialRunner()
    outputs = runner.run(pipeline, catalog)
    # Access actual data using .load()
    result = outputs["my_output"].load()

    print(f"outputs = {sorted(outputs)}")
    print(f"result = {result!r}")
    return {"outputs": sorted(outputs), "result": result}


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
        return run_example()


if __name__ == "__main__":
    main()
