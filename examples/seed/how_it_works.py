"""How It Works: independent branches run at the same time under ParallelRunner.

Reproduces the guide's "How It Works" example: ``process_a`` and ``process_b`` both
read ``input`` and can run in parallel; ``combine`` waits for both.

Each branch records when it started and finished and in which process. So that the
overlap shows on any machine, however slowly worker processes start, a branch
that finishes first waits (at most ``PEER_TIMEOUT`` seconds) until the other one
has started: with ParallelRunner both are running at once, so neither waits long;
run one after the other, the first would wait out the whole timeout.

Run it with ``python examples/seed/how_it_works.py [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagloop.io import MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ParallelRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

WORKDIR_ENV = "DAGLOOP_EXAMPLES_WORKDIR"
#: Where the branches leave their "started" marks (set by main(), inherited by
#: the worker processes).
SYNC_DIR_ENV = "DAGLOOP_HOW_IT_WORKS_SYNC_DIR"
PEER_TIMEOUT = 30.0


# ----------------------------------------------------------------- the nodes


def _branch(name: str, peer: str, work: Callable[[], int]) -> dict[str, Any]:
    """Run ``work``, recording the time span and process it ran in."""
    started = time.time()
    sync_dir = os.environ.get(SYNC_DIR_ENV)
    if sync_dir:
        (Path(sync_dir) / f"{name}.started").touch()
    value = work()
    if sync_dir:
        deadline = time.monotonic() + PEER_TIMEOUT
        while (
            not (Path(sync_dir) / f"{peer}.started").exists()
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
    return {"value": value, "pid": os.getpid(), "start": started, "end": time.time()}


def process_a(data: list[int]) -> dict[str, Any]:
    """Sum of squares (CPU work), in its own worker process."""
    return _branch("process_a", "process_b", lambda: sum(x * x for x in data))


def process_b(data: list[int]) -> dict[str, Any]:
    """Sum of cubes (CPU work), in its own worker process."""
    return _branch("process_b", "process_a", lambda: sum(x**3 for x in data))


def combine(output_a: dict[str, Any], output_b: dict[str, Any]) -> dict[str, Any]:
    return {
        "sum_of_squares": output_a["value"],
        "sum_of_cubes": output_b["value"],
        # How the branches ran, for the demo to report (intermediate datasets
        # are released once combine has read them).
        "branches": {"process_a": output_a, "process_b": output_b},
        "combined_at": time.time(),
    }


def create_catalog() -> SharedMemoryDataCatalog:
    return SharedMemoryDataCatalog({"input": MemoryDataset(list(range(1, 1001)))})


# ----------------------------------------------------------- the guide's code


def create_pipeline() -> Pipeline:
    # Pipeline with independent branches
    return pipeline(
        [
            node(process_a, "input", "output_a"),  # Can run in parallel
            node(process_b, "input", "output_b"),  # Can run in parallel
            node(combine, ["output_a", "output_b"], "final"),  # Waits for both
        ]
    )


def run_example(workdir: Path) -> dict[str, Any]:
    os.environ[SYNC_DIR_ENV] = str(workdir)  # before the workers start
    pipeline = create_pipeline()
    catalog = create_catalog()

    # With ParallelRunner:
    # - process_a and process_b run simultaneously
    # - combine waits for both to complete
    # (two workers, one per branch, even on a single-CPU machine)
    outputs = ParallelRunner(max_workers=2).run(pipeline, catalog)
    final = outputs["final"].load()
    a = final["branches"]["process_a"]
    b = final["branches"]["process_b"]

    overlapped = a["start"] < b["end"] and b["start"] < a["end"]
    combine_waited = final["combined_at"] >= max(a["end"], b["end"])
    print(
        f"final = sum_of_squares: {final['sum_of_squares']}, "
        f"sum_of_cubes: {final['sum_of_cubes']}"
    )
    print(
        f"process_a ran in pid {a['pid']}, process_b in pid {b['pid']} "
        f"(runner in pid {os.getpid()})"
    )
    timeline = {
        "process_a": [a["start"], a["end"]],
        "process_b": [b["start"], b["end"]],
        "combine": final["combined_at"],
    }
    print(f"timeline = {timeline!r}")
    print(f"process_a and process_b overlapped: {overlapped}")
    print(f"combine started after both finished: {combine_waited}")
    return {
        "final": {k: final[k] for k in ("sum_of_squares", "sum_of_cubes")},
        "pids": {"process_a": a["pid"], "process_b": b["pid"], "main": os.getpid()},
        "timeline": timeline,
        "overlapped": overlapped,
        "combine_waited": combine_waited,
    }


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
