"""Node functions and observation helpers for the reliability tests.

Functions that may run in a worker process (``executor="process"``,
``ParallelRunner``) are pickled by reference, so they live here at module level.
They report what they did through the file system (a marker file holding the
worker's pid, a counter file with one line per call), which every process
shares, so the tests can observe a worker process they never see directly.

The observation helpers count what a run leaves behind: child processes (psutil),
threads (``threading.enumerate()``), files (directory listings).

:func:`sigint_child` is the program the Ctrl-C tests run in a subprocess.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from dagloop._workers.pool import default_pool
from tests.runner._nodes import NodeFailure, _manager, _rebuild

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

GUARD = 30  # seconds before a stuck test gives up (never reached when passing)


# --------------------------------------------------------------- markers


def write_marker(path: str | os.PathLike[str], text: str | None = None) -> None:
    """Create ``path`` holding ``text`` (default: this pid), atomically."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    temp.write_text(str(os.getpid()) if text is None else text)
    temp.replace(target)


def wait_for_marker(path: str | os.PathLike[str], guard: float = GUARD) -> str:
    """Block until the marker file ``path`` exists; return its content.

    Polls the file system (the writer may be another process). Raises
    ``TimeoutError`` after ``guard`` seconds: a guard, not a timing assertion.
    """
    target = Path(path)
    deadline = time.monotonic() + guard
    while not target.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{target} never appeared")
        time.sleep(0.005)
    return target.read_text()


def read_pid(path: str | os.PathLike[str]) -> int:
    return int(Path(path).read_text())


# ------------------------------------------------ process-safe node functions


def spin_forever(marker: str, *after: Any) -> None:
    """Write this pid to ``marker``, then burn CPU forever (only a kill stops it)."""
    write_marker(marker)
    while True:
        pass


def exit_abruptly(marker: str, *after: Any) -> None:
    """Write this pid to ``marker``, then end the process without any cleanup."""
    write_marker(marker)
    os._exit(3)


def kill_self(marker: str, *after: Any) -> None:
    """Write this pid to ``marker``, then SIGKILL this process."""
    write_marker(marker)
    os.kill(os.getpid(), signal.SIGKILL)


def die_when_started(how: str, marker: str, wait_for: list[str]) -> None:
    """Write ``<marker>.alive``; once every file in ``wait_for`` exists (the other
    nodes are in flight), write this pid to ``marker`` and end the process:
    ``"exit"`` without any cleanup (``os._exit``), ``"sigkill"`` by SIGKILL."""
    write_marker(f"{marker}.alive")
    for path in wait_for:
        wait_for_marker(path)
    write_marker(marker)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(3)


def unpicklable_result(x: Any) -> Any:
    """Returns a value that cannot be pickled (a lock)."""
    return {"lock": threading.Lock(), "x": x}


def _count_call(counter: str) -> int:
    """Append a line to the file ``counter``; return how many lines it has now."""
    with open(counter, "a") as file:
        file.write(f"{os.getpid()}\n")
    with open(counter) as file:
        return len(file.readlines())


def calls(counter: str | os.PathLike[str]) -> int:
    """How many times a node counting into ``counter`` was called."""
    path = Path(counter)
    return len(path.read_text().splitlines()) if path.exists() else 0


def flaky(counter: str, succeed_on: int, value: Any) -> Any:
    """Fail until the ``succeed_on``-th call (0: always fail), then return ``value``."""
    attempt = _count_call(counter)
    if succeed_on and attempt >= succeed_on:
        return value
    raise NodeFailure(f"attempt {attempt} failed")


async def aflaky(counter: str, succeed_on: int, value: Any) -> Any:
    """The ``async def`` twin of :func:`flaky`."""
    return flaky(counter, succeed_on, value)


def count_then_exit(counter: str, x: Any) -> Any:
    """Count the call, then end the worker process abruptly."""
    _count_call(counter)
    os._exit(3)


def count_then_return_unpicklable(counter: str, x: Any) -> Any:
    """Count the call, then return a value that cannot be pickled."""
    _count_call(counter)
    return threading.Lock()


# --------------------------------------------- pure functions for random DAGs


def mix(salt: int, *values: int) -> int:
    """A deterministic, order-sensitive combination of ``values``."""
    acc = salt * 7919 + 17
    for value in values:
        acc = (acc * 31 + value) % 1_000_000_007
    return acc


async def amix(salt: int, *values: int) -> int:
    """The ``async def`` twin of :func:`mix`."""
    return mix(salt, *values)


# ------------------------------------ in-flight counting across processes


@contextmanager
def process_counter(
    parties: int,
) -> Iterator[tuple[tuple[bytes, bytes], Any, Any]]:
    """A shared in-flight counter plus a ``Barrier(parties)`` for process nodes.

    Yields a reference for :func:`count_at_barrier` (or :func:`fail_at_barrier`),
    the counter's dict proxy (``"now"``, ``"peak"``) and the barrier proxy, both
    usable from the test process too.
    """
    with _manager() as (authkey, manager):
        state = manager.dict(now=0, peak=0)  # type: ignore[attr-defined]
        lock = manager.Lock()  # type: ignore[attr-defined]
        barrier = manager.Barrier(parties)  # type: ignore[attr-defined]
        yield (authkey, pickle.dumps((state, lock, barrier))), state, barrier


def count_at_barrier(ref: tuple[bytes, bytes], x: Any) -> int:
    """Count this node in flight, wait until ``parties`` are, then leave.

    A run that lets fewer than ``parties`` of these run at once never passes the
    barrier (``BrokenBarrierError`` after 20 s: a guard, not a timing assertion).
    """
    state, lock, barrier = _rebuild(ref)
    with lock:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
    barrier.wait(timeout=20)
    with lock:
        state["now"] -= 1
    return os.getpid()


# ------------------------------------------ blocking nodes run in this process


class Blocker:
    """A sync node function that blocks its thread until released.

    ``entered`` is set once it runs, ``returned`` once it has returned; ``threads``
    holds the thread it ran in, so a test can tell that thread apart from others.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()
        self.threads: list[threading.Thread] = []

    def block(self, x: Any, *more: Any) -> Any:
        self.threads.append(threading.current_thread())
        self.entered.set()
        try:
            if not self.release.wait(timeout=GUARD):
                raise TimeoutError("never released")
            return x
        finally:
            self.returned.set()


class InFlight:
    """Which nodes run now, and the most that ever ran at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: set[str] = set()
        self.peak = 0
        #: For each node, the other nodes in flight when it entered or left.
        self.overlaps: dict[str, set[str]] = {}

    def enter(self, name: str) -> int:
        """Count ``name`` in; return how many are in flight now."""
        with self._lock:
            self.overlaps.setdefault(name, set()).update(self.now)
            self.now.add(name)
            self.peak = max(self.peak, len(self.now))
            return len(self.now)

    def leave(self, name: str) -> None:
        with self._lock:
            self.now.discard(name)
            self.overlaps[name].update(self.now)


class Forever:
    """An ``async def`` node function that awaits forever; records how it ended."""

    def __init__(self, marker: Path | None = None) -> None:
        self.marker = marker
        self.started = False
        self.cancelled = 0
        self.stopped = 0

    async def wait(self, x: Any, *more: Any) -> Any:
        import anyio

        self.started = True
        if self.marker is not None:
            write_marker(self.marker)
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        finally:
            self.stopped += 1


async def wait_until(predicate: Any, guard: float = GUARD) -> None:
    """Let the loop run until ``predicate()`` is true (``TimeoutError`` after guard)."""
    import anyio

    # What is awaited happens in other threads or processes (a file appears, a
    # thread sets a flag): no anyio.Event can be set for it, so poll.
    with anyio.fail_after(guard):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.005)


def fail_at_barrier(ref: tuple[bytes, bytes], label: str) -> None:
    """Wait at :func:`process_counter`'s barrier, then raise: the failures of all
    parties happen at the same moment."""
    _state, _lock, barrier = _rebuild(ref)
    barrier.wait(timeout=20)
    raise NodeFailure(f"failure {label}")


# ------------------------------------------------------------- observations


def child_pids() -> set[int]:
    """Every live or unreaped (zombie) descendant process of this process, but
    the idle warm workers of the default pool (kept on purpose between runs).

    Idle workers are leaders of their own process group with no children of their
    own; a worker busy with a node, or one that died unreaped, still counts.
    """
    idle = default_pool().worker_pids(idle_only=True)
    return {p.pid for p in psutil.Process().children(recursive=True)} - idle


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has exited and been reaped (not even a zombie)."""
    return not psutil.pid_exists(pid)


def extra_threads(before: Iterable[threading.Thread]) -> set[threading.Thread]:
    """Threads alive now that were not in ``before``."""
    return set(threading.enumerate()) - set(before)


#: Code an idle thread-pool worker may be in (waiting for its next job).
_POOL_CODE = (
    f"{os.sep}anyio{os.sep}",
    f"{os.sep}trio{os.sep}",
    f"{os.sep}threading.py",
    f"{os.sep}queue.py",
    f"{os.sep}concurrent{os.sep}",
    f"{os.sep}selectors.py",
)


def idle_pool_thread(thread: threading.Thread) -> bool:
    """Whether ``thread`` is a thread-pool worker waiting for work.

    AnyIO (asyncio) and trio keep idle worker threads for reuse, by design; such a
    thread runs only pool code (anyio, trio, threading, queue): no frame of
    dagloop, of a node function or of any other code is on its stack.
    """
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return not thread.is_alive()
    while frame is not None:
        if not any(part in frame.f_code.co_filename for part in _POOL_CODE):
            return False
        frame = frame.f_back
    return thread.name.startswith(("AnyIO worker thread", "Trio thread"))


def join_or_fail(threads: Iterable[threading.Thread], guard: float = GUARD) -> None:
    """Wait for ``threads`` to end (each must end on its own); fail if one does not."""
    deadline = time.monotonic() + guard
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"threads still alive: {alive}"


def listing(directory: str | os.PathLike[str]) -> list[str]:
    """Every entry of ``directory``, hidden files included, sorted."""
    return sorted(os.listdir(directory))


# ------------------------------------------------------- the Ctrl-C child


def sigint_child(config_json: str) -> None:
    """Run a pipeline that blocks in every kind of node; report what Ctrl-C does.

    Config: ``runner`` ("sequential", "thread", "parallel"), ``kinds`` (any of
    "async", "process", "thread": the blocking nodes), ``workdir``. Each blocking
    node writes ``<kind>.started`` in ``workdir`` once it runs; a JSON dataset
    ``saved.json`` is written before any of them starts. The parent sends SIGINT
    once every marker exists. On ``KeyboardInterrupt`` this prints one JSON line:
    the ``time.monotonic()`` at the ``except`` clause, and what the run left
    behind.
    """
    # A process started in the background ignores SIGINT; a Python program run
    # from a terminal has this handler, so do what the user would have.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    import anyio

    from dagloop.io import JSONDataset, MemoryDataset
    from dagloop.pipeline import Pipeline, node
    from tests.runner._nodes import identity, make_catalog, make_runner

    config = json.loads(config_json)
    workdir = Path(config["workdir"])
    release = threading.Event()
    blocked: list[threading.Thread] = []
    async_cancelled: list[str] = []
    async_stopped: list[str] = []

    async def await_forever(x: Any) -> Any:
        write_marker(workdir / "async.started")
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            async_cancelled.append("async")
            raise
        finally:
            async_stopped.append("async")

    def block(x: Any) -> Any:
        blocked.append(threading.current_thread())
        write_marker(workdir / "thread.started")
        release.wait(timeout=60)
        return x

    blockers = {
        "async": node(await_forever, "seed", "async_out", name="async_node"),
        "process": node(
            spin_forever,
            ["process_marker", "seed"],
            "process_out",
            name="process_node",
            executor="process",
        ),
        "thread": node(
            block, "seed", "thread_out", name="thread_node", executor="thread"
        ),
    }
    pipe = Pipeline(
        [
            node(identity, "a", "seed", name="first"),
            *(blockers[kind] for kind in config["kinds"]),
        ]
    )
    catalog = make_catalog(
        config["runner"],
        {
            "a": MemoryDataset({"saved": True}),
            "seed": JSONDataset(str(workdir / "saved.json")),
            "process_marker": MemoryDataset(str(workdir / "process.started")),
        },
    )
    threads_before = set(threading.enumerate())
    report: dict[str, Any] = {}
    try:
        make_runner(config["runner"]).run(pipe, catalog)
        report["outcome"] = "returned"
    except KeyboardInterrupt:
        report["interrupted_at"] = time.monotonic()
        report["outcome"] = "KeyboardInterrupt"
    except BaseException as exc:  # report anything else precisely
        report["interrupted_at"] = time.monotonic()
        report["outcome"] = f"{type(exc).__name__}: {exc!r}"
    report["children"] = sorted(child_pids())
    extra = extra_threads(threads_before)
    report["threads_in_user_code"] = sorted(t.name for t in extra if t in blocked)
    report["idle_pool_threads"] = sorted(
        t.name for t in extra if t not in blocked and idle_pool_thread(t)
    )
    report["other_threads"] = sorted(
        t.name for t in extra if t not in blocked and not idle_pool_thread(t)
    )
    report["async_cancelled"] = async_cancelled
    report["async_stopped"] = async_stopped
    release.set()
    print(json.dumps(report), flush=True)
    os._exit(0)  # idle pool threads (trio keeps them 10 s) need not hold the exit
