"""Troubleshooting: pickling errors, slow ParallelRunner runs, ThreadRunner and the GIL.

Reproduces the guide's "Troubleshooting" section:

* Issue: PickleError with ParallelRunner. A ``DatabaseConnection`` dataset holding
  an open SQLite connection cannot be pickled (``SharedMemoryDataCatalog.
  validate_catalog()`` rejects it). Solution 1: ``ThreadRunner()``. Solution 2:
  ``PicklableDBDataset``, which stores the connection parameters and recreates the
  connection in each process, runs on ``ParallelRunner``.
* Issue: Poor ParallelRunner Performance: the profiling snippet (sequential vs
  ``ParallelRunner(max_workers=4)`` times) on a small pipeline.
* Issue: ThreadRunner Not Faster: ``ParallelRunner()`` for a CPU-bound pipeline,
  ``ThreadRunner()`` for an I/O-bound one.

The database lives in the work directory. Run it with
``python examples/seed/troubleshooting.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import AbstractDataset, MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"
ROWS = [("alice", 3), ("bob", 5), ("carol", 8)]


# ---------------------------------------------------------------- databases


def create_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE IF NOT EXISTS scores (name TEXT, score INTEGER)")
        conn.execute("DELETE FROM scores")
        conn.executemany("INSERT INTO scores VALUES (?, ?)", ROWS)


class _Connection:
    """A thin connection object with the ``fetch_data()`` the guide's code calls."""

    def __init__(self, params: dict[str, Any]) -> None:
        self._conn = sqlite3.connect(params["database"])
        self._query = params["query"]

    def fetch_data(self) -> list[tuple[Any, ...]]:
        with contextlib.closing(self._conn):
            return self._conn.execute(self._query).fetchall()


def create_connection(params: dict[str, Any]) -> _Connection:
    return _Connection(params)


class DatabaseConnection(AbstractDataset[Any, list[tuple[Any, ...]]]):
    """Keeps one open connection for its lifetime: cannot be pickled."""

    def __init__(self, database: str, query: str) -> None:
        self._conn = sqlite3.connect(database, check_same_thread=False)
        self._query = query

    def _load(self) -> list[tuple[Any, ...]]:
        return self._conn.execute(self._query).fetchall()

    def _save(self, data: Any) -> None:
        raise NotImplementedError("read-only dataset")

    def _describe(self) -> dict[str, Any]:
        return {"query": self._query}

    def close(self) -> None:
        self._conn.close()


class PicklableDBDataset(AbstractDataset):
    def __init__(self, connection_params):
        self._params = connection_params  # Store params, not connection

    def _load(self):
        conn = create_connection(self._params)  # Recreate in each process
        return conn.fetch_data()

    # What the guide leaves out: AbstractDataset also needs these two.
    def _save(self, data):
        raise NotImplementedError("read-only dataset")

    def _describe(self):
        return {"connection_params": self._params}


# ----------------------------------------------------------------- the nodes


def total_score(rows: list[tuple[str, int]]) -> dict[str, Any]:
    return {"players": len(rows), "total": sum(score for _, score in rows)}


def create_db_pipeline() -> Pipeline:
    return pipeline([node(total_score, "db", "report", name="total_score")])


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))


def count_primes(bounds: list[int]) -> int:
    """CPU-bound."""
    return sum(1 for n in range(*bounds) if _is_prime(n))


def add(*counts: int) -> int:
    return sum(counts)


def create_cpu_pipeline() -> Pipeline:
    return pipeline(
        [
            node(count_primes, "low", "primes_low", name="count_low"),
            node(count_primes, "high", "primes_high", name="count_high"),
            node(add, ["primes_low", "primes_high"], "prime_count", name="add"),
        ]
    )


def create_cpu_catalog() -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog(
        {"low": MemoryDataset([0, 20_000]), "high": MemoryDataset([20_000, 40_000])}
    )


def wait_for_io(label: str) -> str:
    """I/O-bound: spends its time waiting."""
    time.sleep(0.2)
    return label.upper()


def create_io_pipeline() -> Pipeline:
    return pipeline(
        [
            node(wait_for_io, f"request_{i}", f"reply_{i}", name=f"wait_{i}")
            for i in range(4)
        ]
    )


def create_io_catalog() -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog(
        {f"request_{i}": MemoryDataset(f"request {i}") for i in range(4)}
    )


# ----------------------------------------------------------- the guide's code


def pickle_error(database: Path) -> dict[str, Any]:
    pipeline = create_db_pipeline()
    query = "SELECT name, score FROM scores ORDER BY name"
    result: dict[str, Any] = {}

    # Problem: Dataset can't be serialized
    catalog = SharedMemoryDataCatalog()
    # Error: Can't pickle database connection
    catalog["db"] = DatabaseConnection(str(database), query)
    try:
        pickle.dumps(catalog["db"])
    except TypeError as exc:
        result["pickle_error"] = str(exc)
    try:
        catalog.validate_catalog()
    except AttributeError as exc:
        result["validate_error"] = str(exc).splitlines()[0]
    print(f"Problem: pickle.dumps(DatabaseConnection) -> {result.get('pickle_error')}")
    print(f"Problem: validate_catalog() -> {result.get('validate_error')}")
    try:
        report = ParallelRunner().run(pipeline, catalog)["report"].load()
    except Exception as exc:
        result["parallel_runner_error"] = f"{type(exc).__name__}: {exc}"
        print(f"Problem: ParallelRunner().run -> {result['parallel_runner_error']}")
    else:
        result["parallel_runner_report"] = report
        print(
            "Problem: ParallelRunner().run did not fail with DatabaseConnection "
            f"(report = {report!r})"
        )

    # Solution 1: Use ThreadRunner
    runner = ThreadRunner()
    result["thread_runner_report"] = runner.run(pipeline, catalog)["report"].load()
    catalog["db"].close()
    print(f"Solution 1: ThreadRunner() -> report = {result['thread_runner_report']!r}")

    # Solution 2: Make dataset picklable
    catalog = SharedMemoryDataCatalog()
    catalog["db"] = PicklableDBDataset({"database": str(database), "query": query})
    copy = pickle.loads(pickle.dumps(catalog["db"]))
    catalog.validate_catalog()  # passes
    result["picklable_copy_loads"] = copy.load()
    result["parallel_runner_picklable_report"] = (
        ParallelRunner().run(pipeline, catalog)["report"].load()
    )
    print(
        "Solution 2: PicklableDBDataset pickles and passes validate_catalog(); "
        f"ParallelRunner() -> report = {result['parallel_runner_picklable_report']!r}"
    )
    return result


def poor_parallel_performance() -> dict[str, Any]:
    pipeline = create_cpu_pipeline()
    catalog = create_cpu_catalog()

    # Solution: Profile and adjust
    start = time.time()
    SequentialRunner().run(pipeline, catalog)
    seq_time = time.time() - start
    sequential_count = catalog.load("prime_count")

    start = time.time()
    ParallelRunner(max_workers=4).run(pipeline, catalog)
    par_time = time.time() - start
    parallel_count = catalog.load("prime_count")

    print(f"Sequential: {seq_time:.2f}s, Parallel: {par_time:.2f}s")
    print(f"prime_count: sequential {sequential_count}, parallel {parallel_count}")
    return {
        "seq_time": seq_time,
        "par_time": par_time,
        "sequential_count": sequential_count,
        "parallel_count": parallel_count,
    }


def thread_runner_not_faster() -> dict[str, Any]:
    # Solution: Use ParallelRunner for CPU-bound tasks
    # CPU-bound: Use processes
    runner = ParallelRunner()
    prime_count = runner.run(create_cpu_pipeline(), create_cpu_catalog())[
        "prime_count"
    ].load()
    print(f"CPU-bound on ParallelRunner(): prime_count = {prime_count}")

    # I/O-bound: Use threads
    runner = ThreadRunner()
    outputs = runner.run(create_io_pipeline(), create_io_catalog())
    replies = [outputs[f"reply_{i}"].load() for i in range(4)]
    print(f"I/O-bound on ThreadRunner(): replies = {replies!r}")
    return {"prime_count": prime_count, "replies": replies}


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
        database = workdir / "scores.db"
        create_database(database)
        return {
            "pickle_error": pickle_error(database),
            "poor_parallel_performance": poor_parallel_performance(),
            "thread_runner_not_faster": thread_runner_not_faster(),
        }


if __name__ == "__main__":
    main()
