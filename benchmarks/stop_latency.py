"""How fast a run stops: from the stop to the caller having control back.

dagloop only (Kedro has no cancellation to compare with). For each case, several
repetitions, reported as median, min and max:

* ``cancel async``: ``arun()`` is cancelled (its cancel scope) while an
  ``async def`` node awaits forever;
* ``cancel process``: the same while a process node spins on the CPU; the time
  includes killing and reaping the worker;
* ``worker death``: a process node SIGKILLs its own worker; from the kill to
  ``WorkerProcessError`` in the caller;
* ``Ctrl-C``: SIGINT to a script blocked in ``run()`` with a process node
  spinning; from the signal to the script's ``except KeyboardInterrupt``;
* ``parent SIGKILL``: a script with a warm worker spinning in a node is killed
  with SIGKILL; from the kill until the worker is gone (it notices through its
  lifeline pipe);
* ``deadline: inline`` / ``thread`` / ``dataset load``: ``run(timeout=T)`` while
  a sync node (inline by default in ``SequentialRunner``; in a thread) or a sync
  dataset's load in an I/O thread blocks forever; from the deadline to
  ``RunTimeoutError`` in the caller.

Targets: under 1 s for the first five (issues 6 and 9), under 0.1 s past the
deadline for the deadline cases (issue 9).

    python benchmarks/stop_latency.py --reps 5
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from _nodes import kill_own_worker, spin_forever

from dagloop.io import AbstractDataset, DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import (
    RunTimeoutError,
    SequentialRunner,
    ThreadRunner,
    WorkerProcessError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HERE = Path(__file__).resolve().parent
TARGET = 1.0
DEADLINE_TARGET = 0.1
#: The run timeout of the deadline cases.
RUN_TIMEOUT = 0.2


async def wait_for(path: Path) -> None:
    """Wait until a node has written ``path`` (it has started).

    The node runs in another process: there is no event to wait on, so poll.
    """
    marker = anyio.Path(path)
    with anyio.fail_after(60):
        while not (await marker.exists() and await marker.read_text()):  # noqa: ASYNC110
            await anyio.sleep(0.005)


async def cancel_after_start(
    runner: Any,
    pipe: Pipeline,
    catalog: DataCatalog,
    started: Callable[[], Awaitable[None]],
) -> float:
    """Start the run, wait for its node, cancel; seconds until ``arun`` is back."""
    stopped_at: list[float] = []
    with anyio.CancelScope() as scope:

        async def stop_when_started() -> None:
            await started()
            stopped_at.append(time.perf_counter())
            scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(stop_when_started)
            await runner.arun(pipe, catalog)
    return time.perf_counter() - stopped_at[0]


async def cancel_async(folder: Path) -> float:
    event = anyio.Event()

    async def wait_forever(x: Any) -> None:
        event.set()
        await anyio.sleep_forever()

    pipe = Pipeline([node(wait_forever, "x", "y", name="forever")])
    catalog = DataCatalog({"x": MemoryDataset(1)})
    return await cancel_after_start(ThreadRunner(), pipe, catalog, event.wait)


async def cancel_process(folder: Path) -> float:
    marker = folder / "process.marker"
    pipe = Pipeline([node(spin_forever, "m", "y", name="spin", executor="process")])
    catalog = DataCatalog({"m": MemoryDataset(str(marker))})
    return await cancel_after_start(
        ThreadRunner(), pipe, catalog, lambda: wait_for(marker)
    )


def worker_death(folder: Path) -> float:
    marker = folder / "death.marker"
    pipe = Pipeline([node(kill_own_worker, "m", "y", name="dies", executor="process")])
    catalog = DataCatalog({"m": MemoryDataset(str(marker))})
    try:
        SequentialRunner().run(pipe, catalog)
    except WorkerProcessError:
        return time.time() - float(marker.read_text())
    raise AssertionError("the run should have failed")


CTRL_C_SCRIPT = """
import sys, time
from _nodes import spin_forever
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import SequentialRunner

if __name__ == "__main__":
    pipe = Pipeline([node(spin_forever, "m", "y", name="spin", executor="process")])
    try:
        SequentialRunner().run(pipe, DataCatalog({"m": MemoryDataset(sys.argv[1])}))
    except KeyboardInterrupt:
        print(time.time(), flush=True)
"""


def start_script(
    folder: Path, code: str, marker: Path, **popen: Any
) -> subprocess.Popen[str]:
    """Run ``code`` as a script with ``marker`` as its argument; wait for the marker.

    Raises:
        AssertionError: When the script's node never writes the marker.
    """
    script = folder / f"{marker.stem}.py"
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "PYTHONPATH": str(HERE)}  # for _nodes
    child = subprocess.Popen(
        [sys.executable, str(script), str(marker)], text=True, env=env, **popen
    )
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise AssertionError("the node never started")
        time.sleep(0.005)
    return child


def ctrl_c(folder: Path) -> float:
    child = start_script(
        folder, CTRL_C_SCRIPT, folder / "ctrl_c.marker", stdout=subprocess.PIPE
    )
    sent = time.time()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    return float(out.split()[-1]) - sent


PARENT_SCRIPT = """
import sys
from _nodes import spin_with_pid
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import SequentialRunner

if __name__ == "__main__":
    pipe = Pipeline([node(spin_with_pid, "m", "y", name="spin", executor="process")])
    SequentialRunner().run(pipe, DataCatalog({"m": MemoryDataset(sys.argv[1])}))
"""


def parent_sigkill(folder: Path) -> float:
    marker = folder / "parent.marker"
    child = start_script(folder, PARENT_SCRIPT, marker)
    worker = int(marker.read_text())
    killed = time.perf_counter()
    child.kill()
    child.wait()
    while _alive(worker):
        if time.perf_counter() - killed > 60:
            raise AssertionError(f"worker {worker} outlived its parent")
        time.sleep(0.001)
    return time.perf_counter() - killed


def _alive(pid: int) -> bool:
    """Running (an orphan's zombie waits for init to reap it: not running)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class _BlockedLoad(AbstractDataset[Any, Any]):
    """A sync dataset whose load blocks its I/O thread until released."""

    def __init__(self, release: threading.Event) -> None:
        self._release_event = release

    def _load(self) -> Any:
        self._release_event.wait()
        return 1

    def _save(self, data: Any) -> None:
        raise NotImplementedError

    def _describe(self) -> dict[str, Any]:
        return {}


def deadline_case(where: str) -> Callable[[Path], float]:
    """``run(timeout=...)`` with ``where`` blocked; seconds past the deadline."""

    def case(folder: Path) -> float:
        release = threading.Event()

        def block(x: Any) -> Any:
            release.wait()
            return x

        catalog = DataCatalog({"x": MemoryDataset(1)})
        func: Callable[[Any], Any] = block
        if where == "load":
            catalog["x"] = _BlockedLoad(release)
            func = _identity
        executor = "thread" if where == "thread" else None
        pipe = Pipeline([node(func, "x", "y", name="blocked", executor=executor)])
        start = time.perf_counter()
        try:
            SequentialRunner().run(pipe, catalog, timeout=RUN_TIMEOUT)
        except RunTimeoutError:
            return time.perf_counter() - start - RUN_TIMEOUT
        finally:
            release.set()
        raise AssertionError("the run should have timed out")

    return case


def _identity(x: Any) -> Any:
    return x


def measure(reps: int) -> dict[str, list[float]]:
    cases: dict[str, Callable[[Path], float]] = {
        "cancel async": lambda folder: anyio.run(cancel_async, folder),
        "cancel process": lambda folder: anyio.run(cancel_process, folder),
        "worker death": worker_death,
        "Ctrl-C": ctrl_c,
        "parent SIGKILL": parent_sigkill,
        "deadline: inline": deadline_case("inline"),
        "deadline: thread": deadline_case("thread"),
        "deadline: dataset load": deadline_case("load"),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for rep in range(reps):
        for name, case in cases.items():  # interleaved, rep by rep
            with tempfile.TemporaryDirectory() as folder:
                seconds = case(Path(folder))
            results[name].append(seconds)
            print(f"  rep {rep + 1}/{reps}  {name:<15} {seconds * 1000:8.1f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    # The worker-death case fails on purpose; its error log is expected noise.
    # The deadline cases warn about the threads they abandon: expected too.
    logging.getLogger("dagloop").setLevel(logging.CRITICAL)
    results = measure(args.reps)
    print(f"\n{os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| stop | median | min | max | target |  |")
    print("|---|---|---|---|---|---|")
    for name, values in results.items():
        target = DEADLINE_TARGET if name.startswith("deadline") else TARGET
        median = statistics.median(values)
        mark = "✓" if max(values) <= target else "✗"
        print(
            f"| {name} | {median * 1000:.1f} ms | {min(values) * 1000:.1f} | "
            f"{max(values) * 1000:.1f} | ≤ {target * 1000:.0f} ms | {mark} |"
        )


if __name__ == "__main__":
    main()
