"""Performance Optimization: pipeline structure, worker counts, caching, incremental runs.

Reproduces the guide's "Performance Optimization" section:

1. Pipeline Structure: the "good" pipeline (three independent region branches and
   a combine) has two layers, so the branches can run together; the "less
   parallel" chain step1 → step2 → step3 → step4 has four layers of one node.
2. Optimal Worker Count: ``ParallelRunner(max_workers=cpu_count)`` and
   ``ThreadRunner(max_workers=cpu_count * 2)``.
3. Dataset Caching: ``CachedDataset(ExpensiveDataset("source.db"))`` read by three
   nodes loads the underlying (SQLite) dataset once; unwrapped, it loads three times.
4. Incremental Runs: a second ``only_missing_outputs=True`` run skips every node.

Run it with ``python examples/seed/performance.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dagloop.io import (
    AbstractDataset,
    CachedDataset,
    DataCatalog,
    JSONDataset,
    MemoryDataset,
    SharedMemoryDataCatalog,
)
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"

#: Nodes that ran in this process (ThreadRunner and SequentialRunner runs).
RAN: list[str] = []

SALES = [
    {"region": region, "amount": amount}
    for region, amount in [
        ("a", 120),
        ("b", 80),
        ("c", 45),
        ("a", 30),
        ("b", -5),
        ("c", 60),
        ("a", 10),
    ]
]


# ----------------------------------------------------------------- the nodes


def _region_total(data: list[dict[str, Any]], region: str) -> int:
    return sum(row["amount"] for row in data if row["region"] == region)


def process_region_a(data: list[dict[str, Any]]) -> int:
    RAN.append("process_region_a")
    return _region_total(data, "a")


def process_region_b(data: list[dict[str, Any]]) -> int:
    RAN.append("process_region_b")
    return _region_total(data, "b")


def process_region_c(data: list[dict[str, Any]]) -> int:
    RAN.append("process_region_c")
    return _region_total(data, "c")


def combine(result_a: int, result_b: int, result_c: int) -> dict[str, int]:
    RAN.append("combine")
    return {"a": result_a, "b": result_b, "c": result_c}


def step1(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in data if row["amount"] > 0]


def step2(rows: list[dict[str, Any]]) -> list[int]:
    return [row["amount"] for row in rows]


def step3(amounts: list[int]) -> list[int]:
    return sorted(amounts, reverse=True)


def step4(amounts: list[int]) -> dict[str, int]:
    return {"largest": amounts[0], "total": sum(amounts)}


class ExpensiveDataset(AbstractDataset[list[tuple[str, int]], list[tuple[str, int]]]):
    """Rows of a SQLite table; each load is a query, counted per database file."""

    #: ``{filepath: number of loads}``, across all instances.
    load_counts: ClassVar[Counter[str]] = Counter()

    def __init__(self, filepath: str) -> None:
        self._filepath = filepath

    def _load(self) -> list[tuple[str, int]]:
        self.load_counts[self._filepath] += 1
        with contextlib.closing(sqlite3.connect(self._filepath)) as conn:
            return conn.execute(
                "SELECT region, amount FROM sales ORDER BY rowid"
            ).fetchall()

    def _save(self, data: list[tuple[str, int]]) -> None:
        with contextlib.closing(sqlite3.connect(self._filepath)) as conn, conn:
            conn.execute("DROP TABLE IF EXISTS sales")
            conn.execute("CREATE TABLE sales (region TEXT, amount INTEGER)")
            conn.executemany("INSERT INTO sales VALUES (?, ?)", data)

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}


def row_count(rows: list[tuple[str, int]]) -> int:
    return len(rows)


def amount_total(rows: list[tuple[str, int]]) -> int:
    return sum(amount for _, amount in rows)


def regions(rows: list[tuple[str, int]]) -> list[str]:
    return sorted({region for region, _ in rows})


def create_summary_pipeline() -> Pipeline:
    """Three nodes that all read ``expensive_data``."""
    return pipeline(
        [
            node(row_count, "expensive_data", "n_rows"),
            node(amount_total, "expensive_data", "total"),
            node(regions, "expensive_data", "region_names"),
        ]
    )


# ----------------------------------------------------------- the guide's code


def good_pipeline() -> Pipeline:
    # ✅ Good: Independent branches enable parallelism
    return pipeline(
        [
            node(process_region_a, "data", "result_a"),
            node(process_region_b, "data", "result_b"),
            node(process_region_c, "data", "result_c"),
            node(combine, ["result_a", "result_b", "result_c"], "final"),
        ]
    )


def sequential_pipeline() -> Pipeline:
    # ❌ Less parallel: Sequential dependencies
    return pipeline(
        [
            node(step1, "data", "out1"),
            node(step2, "out1", "out2"),
            node(step3, "out2", "out3"),
            node(step4, "out3", "final"),
        ]
    )


def pipeline_structure() -> dict[str, Any]:
    result = {}
    for label, pipe in (
        ("good", good_pipeline()),
        ("less_parallel", sequential_pipeline()),
    ):
        layers = [sorted(n.name for n in layer) for layer in pipe.grouped_nodes]
        catalog = SharedMemoryDataCatalog({"data": MemoryDataset(SALES)})
        final = ParallelRunner().run(pipe, catalog)["final"].load()
        widest = max(len(layer) for layer in layers)
        print(
            f"1. {label}: {len(layers)} layers, at most {widest} node(s) at once; "
            f"final = {final!r}"
        )
        result[label] = {"layers": layers, "final": final}
    return result


def optimal_worker_count() -> dict[str, Any]:
    pipeline = good_pipeline()

    # CPU-bound: Use CPU count
    cpu_count = os.cpu_count()
    runner = ParallelRunner(max_workers=cpu_count)
    catalog = SharedMemoryDataCatalog({"data": MemoryDataset(SALES)})
    parallel_final = runner.run(pipeline, catalog)["final"].load()
    print(f"2. ParallelRunner(max_workers={cpu_count}): final = {parallel_final!r}")

    # I/O-bound: Can use more workers
    runner = ThreadRunner(max_workers=cpu_count * 2)
    catalog = SharedMemoryDataCatalog({"data": MemoryDataset(SALES)})
    thread_final = runner.run(pipeline, catalog)["final"].load()
    print(f"2. ThreadRunner(max_workers={cpu_count * 2}): final = {thread_final!r}")
    return {"cpu_count": cpu_count, "parallel": parallel_final, "thread": thread_final}


def dataset_caching(workdir: Path) -> dict[str, Any]:
    source_db = str(workdir / "source.db")
    ExpensiveDataset(source_db).save([(row["region"], row["amount"]) for row in SALES])
    pipeline = create_summary_pipeline()

    # Without caching: every node that reads expensive_data queries the database.
    ExpensiveDataset.load_counts.clear()
    catalog = DataCatalog()
    catalog["expensive_data"] = ExpensiveDataset(source_db)
    outputs = SequentialRunner().run(pipeline, catalog)
    uncached = {name: dataset.load() for name, dataset in sorted(outputs.items())}
    uncached_loads = ExpensiveDataset.load_counts[source_db]
    print(f"3. without CachedDataset: ExpensiveDataset loaded {uncached_loads} times")

    ExpensiveDataset.load_counts.clear()
    catalog = DataCatalog()
    # Cache expensive loads ("source.db" in the work directory)
    catalog["expensive_data"] = CachedDataset(ExpensiveDataset(source_db))
    outputs = SequentialRunner().run(pipeline, catalog)
    cached = {name: dataset.load() for name, dataset in sorted(outputs.items())}
    cached_loads = ExpensiveDataset.load_counts[source_db]
    print(f"3. with CachedDataset: ExpensiveDataset loaded {cached_loads} time(s)")
    print(f"3. outputs = {cached!r}")
    return {
        "uncached_loads": uncached_loads,
        "cached_loads": cached_loads,
        "uncached": uncached,
        "cached": cached,
    }


def incremental_runs(workdir: Path) -> dict[str, Any]:
    pipeline = good_pipeline()
    catalog = SharedMemoryDataCatalog(
        {
            "data": MemoryDataset(SALES),
            "final": JSONDataset(str(workdir / "final.json")),
        }
    )
    runner = ThreadRunner(max_workers=(os.cpu_count() or 1) * 2)
    RAN.clear()
    runner.run(pipeline, catalog, only_missing_outputs=True)
    first = sorted(RAN)

    RAN.clear()
    # Skip recomputing existing outputs
    runner.run(pipeline, catalog, only_missing_outputs=True)
    second = sorted(RAN)
    print(f"4. first incremental run ran {first}; second ran {second or 'nothing'}")
    return {"first": first, "second": second, "final": catalog.load("final")}


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
            "pipeline_structure": pipeline_structure(),
            "optimal_worker_count": optimal_worker_count(),
            "dataset_caching": dataset_caching(workdir),
            "incremental_runs": incremental_runs(workdir),
        }


if __name__ == "__main__":
    main()
