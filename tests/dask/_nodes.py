"""Node functions for DaskRunner's tests; importable by the Dask workers."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dagloop.io import AbstractDataset


def where(x: Any) -> dict[str, Any]:
    """Where this call ran: the process and, on a Dask worker, its address."""
    try:
        from distributed import get_worker

        address = get_worker().address
    except ValueError:  # not in a Dask worker
        address = None
    return {"pid": os.getpid(), "worker": address, "x": x}


class OnlyOnWorkers:
    """A value that refuses to be unpickled in the parent process: it proves a
    value stayed on the cluster."""

    def __init__(self, parent_pid: int, size: int) -> None:
        self.parent_pid = parent_pid
        self.payload = b"x" * size

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.parent_pid, len(self.payload)))


def _rebuild(parent_pid: int, size: int) -> OnlyOnWorkers:
    if os.getpid() == parent_pid:
        raise RuntimeError("an intermediate value was moved to the parent process")
    return OnlyOnWorkers(parent_pid, size)


def make_big(parent_pid: int) -> OnlyOnWorkers:
    return OnlyOnWorkers(parent_pid, 20_000_000)


def measure(value: OnlyOnWorkers) -> int:
    return len(value.payload)


def split(x: int) -> tuple[int, int]:
    return x, x * 10


def add(a: int, b: int) -> int:
    return a + b


class NodeFailure(Exception):
    """Raised by ``fail``."""


def fail(x: Any) -> Any:
    raise NodeFailure(f"failed on {x!r}")


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def die(x: Any) -> Any:
    os._exit(3)


def flaky(counter: str) -> int:
    """Fails until it has been called three times (the count kept in a file,
    as the calls run in different processes)."""
    path = Path(counter)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls < 3:
        raise ConnectionError(f"call {calls} failed")
    return calls


class WhoDoesIO(AbstractDataset[Any, Any]):
    """A pickle file dataset that logs the process doing each load and save
    (appending ``load <pid>`` / ``save <pid>`` to ``log``)."""

    def __init__(self, path: str, log: str) -> None:
        self.path, self.log = path, log

    def _describe(self) -> dict[str, Any]:
        return {"path": self.path}

    def _note(self, what: str) -> None:
        with open(self.log, "a") as out:
            out.write(f"{what} {os.getpid()}\n")

    def _load(self) -> Any:
        import pickle

        self._note("load")
        with open(self.path, "rb") as source:
            return pickle.load(source)

    def _save(self, data: Any) -> None:
        import pickle

        self._note("save")
        with open(self.path, "wb") as target:
            pickle.dump(data, target)


async def numbered(n: int) -> Any:
    """A streaming node: its items, on the parent's loop."""
    for i in range(n):
        yield i


def total_on_worker(items: list[int]) -> dict[str, Any]:
    """A Dask task reading a stream: it gets the items collected."""
    return {"total": sum(items), "type": type(items).__name__, "pid": os.getpid()}
