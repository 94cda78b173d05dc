"""Parallel Execution (Multiprocessing): ParallelRunner and its catalog requirements.

Reproduces the guide's "Parallel Execution (Multiprocessing)" section:

* Usage: ``ParallelRunner()`` (one worker per CPU) and ``ParallelRunner(max_workers=4)``
  on a CPU-bound pipeline, reading the result with ``outputs["my_output"].load()``.
* Requirements: ``SharedMemoryDataCatalog`` with ``"output": MemoryDataset()``; a
  regular ``DataCatalog`` is rejected; picklable datasets (``MemoryDataset``,
  ``CSVDataset("output.csv")``, written to the work directory); a dataset holding a
  database connection is not picklable.

Run it with ``python examples/seed/parallel.py [--workdir DIR]``. Node functions
live at module level: worker processes import this file (as ``__mp_main__``) to
find them, which is why everything runs from ``main()``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dagloop.io import (
    AbstractDataset,
    CSVDataset,
    DataCatalog,
    MemoryDataset,
    SharedMemoryDataCatalog,
)
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"
CHUNKS = 4
CHUNK_SIZE = 25_000


# ----------------------------------------------------------------- the nodes


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def count_primes(bounds: tuple[int, int]) -> int:
    """CPU-bound work: how many primes lie in ``[low, high)``."""
    low, high = bounds
    return sum(1 for n in range(low, high) if _is_prime(n))


def total(*counts: int) -> int:
    return sum(counts)


def square_all(data: list[int]) -> list[int]:
    return [x * x for x in data]


def to_table(data: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"value": data, "square": [x * x for x in data]})


class DatabaseConnection(AbstractDataset[Any, Any]):
    """A dataset that keeps an open database connection: it cannot be pickled."""

    def __init__(self, database: str = ":memory:") -> None:
        self._connection = sqlite3.connect(database, check_same_thread=False)

    def _load(self) -> list[tuple[Any, ...]]:
        return self._connection.execute("SELECT 1").fetchall()

    def _save(self, data: Any) -> None:
        raise NotImplementedError("read-only")

    def _describe(self) -> dict[str, Any]:
        return {}


def create_cpu_pipeline() -> Pipeline:
    """``CHUNKS`` independent prime counts, then their total in ``my_output``."""
    counts = [
        node(count_primes, f"chunk_{i}", f"primes_{i}", name=f"count_primes_{i}")
        for i in range(CHUNKS)
    ]
    summed = node(total, [f"primes_{i}" for i in range(CHUNKS)], "my_output")
    return pipeline([*counts, summed])


def create_cpu_catalog() -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog(
        {
            f"chunk_{i}": MemoryDataset((i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE))
            for i in range(CHUNKS)
        }
    )


def create_square_pipeline() -> Pipeline:
    return pipeline([node(square_all, "data", "output", name="square_all")])


def create_table_pipeline() -> Pipeline:
    return pipeline([node(to_table, "data", "output", name="to_table")])


# ----------------------------------------------------------- the guide's code


def usage() -> dict[str, Any]:
    pipeline = create_cpu_pipeline()
    catalog = create_cpu_catalog()

    # Use default number of workers (CPU count)
    runner = ParallelRunner()
    outputs = runner.run(pipeline, catalog)
    # Note: outputs is a dict of dataset names to Dataset objects
    result = outputs["my_output"].load()
    print(f"ParallelRunner(): my_output = {result}")
    default_result = result

    # Specify max workers
    runner = ParallelRunner(max_workers=4)
    outputs = runner.run(pipeline, catalog)
    result = outputs["my_output"].load()
    print(f"ParallelRunner(max_workers=4): my_output = {result}")
    return {"default_workers": default_result, "max_workers_4": result}


def shared_memory_catalog() -> dict[str, Any]:
    pipeline = create_square_pipeline()

    # ✅ Correct - use SharedMemoryDataCatalog with ParallelRunner
    catalog = SharedMemoryDataCatalog(
        {"data": MemoryDataset([1, 2, 3]), "output": MemoryDataset()}
    )

    runner = ParallelRunner()
    outputs = runner.run(pipeline, catalog)
    output = outputs["output"].load()
    print(f"SharedMemoryDataCatalog: output = {output!r}")

    # ❌ Incorrect - regular DataCatalog will cause errors
    catalog = DataCatalog(
        {"data": MemoryDataset([1, 2, 3]), "output": MemoryDataset()}
    )  # Missing validate_catalog() method
    runner = ParallelRunner()  # Will fail during execution
    try:
        runner.run(pipeline, catalog)
    except AttributeError as exc:
        error = f"{type(exc).__name__}: {exc}"
        print(f"DataCatalog rejected: {error}")
    else:
        error = None
        print("DataCatalog rejected: no (ParallelRunner ran with a DataCatalog)")
    return {"output": output, "data_catalog_error": error}


def picklable_datasets(workdir: Path) -> dict[str, Any]:
    pipeline = create_table_pipeline()
    output_csv = workdir / "output.csv"

    # ✅ Picklable datasets
    catalog = SharedMemoryDataCatalog(
        {
            "data": MemoryDataset([1, 2, 3]),  # Picklable
            "output": CSVDataset(str(output_csv)),  # Picklable ("output.csv")
        }
    )
    for name in ("data", "output"):
        pickle.loads(pickle.dumps(catalog[name]))  # both survive a round trip
    catalog.validate_catalog()  # passes: every dataset can go to a worker

    outputs = ParallelRunner().run(pipeline, catalog)
    frame = outputs["output"].load()
    csv_text = output_csv.read_text()
    print(f"CSVDataset: {output_csv.name} holds {len(frame)} rows:")
    print(csv_text, end="")
    return {"rows": frame.to_dict(orient="records"), "csv": csv_text}


def non_picklable_datasets() -> dict[str, Any]:
    # ❌ Non-picklable datasets
    catalog = SharedMemoryDataCatalog(
        {
            "connection": DatabaseConnection()  # May not be picklable
        }
    )
    try:
        pickle.dumps(catalog["connection"])
    except TypeError as exc:
        pickle_error = str(exc)
    else:
        pickle_error = None
    print(f"pickle.dumps(DatabaseConnection()): {pickle_error}")
    try:
        catalog.validate_catalog()
    except AttributeError as exc:
        validate_error = str(exc).splitlines()[0]
    else:
        validate_error = None
    print(f"catalog.validate_catalog(): {validate_error}")
    return {"pickle_error": pickle_error, "validate_error": validate_error}


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
            "usage": usage(),
            "shared_memory_catalog": shared_memory_catalog(),
            "picklable_datasets": picklable_datasets(workdir),
            "non_picklable_datasets": non_picklable_datasets(),
        }


if __name__ == "__main__":
    main()
