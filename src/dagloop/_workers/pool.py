"""Warm worker processes shared by every run: :class:`WorkerPool`.

A worker is ``python -m dagloop._workers`` talking over its stdin/stdout. Workers
are kept warm between calls and between runs, so a run with a process node pays
no interpreter start-up once the pool is warm. Each event loop that runs a node
talks to the worker's pipes itself (``anyio.wait_readable``/``wait_writable`` on
plain file descriptors), so one pool serves ``run()`` (a new loop per call),
``arun()`` on asyncio, uvloop and trio, and runs in different threads alike.

Who owns what, and when it ends:

* :func:`default_pool` belongs to the interpreter: created on first use, grown to
  the largest ``max_workers`` a run asks for, closed at exit (and its idle
  workers stopped when Ctrl-C ends a run). A :class:`WorkerPool` you create is
  yours: close it (``with``/``async with``, or :meth:`WorkerPool.close`).
* An idle worker is reaped after ``idle_timeout`` seconds by the pool's reaper
  thread, which runs only while some worker is idle.
* A worker whose call is cancelled (a node timeout, a cancelled or timed-out
  run, Ctrl-C) is killed with its process group at once; the next call starts a
  fresh one. A worker that dies mid-call is reported to that call.
* No worker outlives its parent: each holds the read end of the pool's lifeline
  pipe and ends itself (and the side-channel folder) when the parent is gone.

Threads the pool needs (starting, killing and reaping a worker; pickling big
payloads) come from the loop's "dagloop-io" limiter; waiting for a free worker
takes no thread at all.

Each worker leads its own session, so a Ctrl-C typed in the terminal reaches the
parent only, and killing a worker kills what its node started too.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from dagloop._bridge import loop_call_soon
from dagloop._workers.payload import FromWorker, SideChannel
from dagloop._workers.protocol import HEADER, INIT, PRELOAD_FAILED, READY, frame
from dagloop.io._async import in_io_thread, io_limiter
from dagloop.pipeline._controls import _positive_int, _seconds

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from types import TracebackType

__all__ = ["DEFAULT_IDLE_TIMEOUT", "WorkerPool", "default_pool"]

#: Seconds an idle worker is kept before it is reaped (as ``anyio.to_process``
#: and loky keep theirs); ``DAGLOOP_WORKER_IDLE_TIMEOUT`` overrides it for the
#: default pool.
DEFAULT_IDLE_TIMEOUT = 300.0

#: How long a worker whose pipes closed gets to report its exit status.
_EXIT_STATUS_WAIT = 1.0
#: Bytes read from a worker's pipe at a time.
_READ_SIZE = 1 << 16


class _Worker:
    """One worker process, its two pipes (non-blocking) and its bookkeeping."""

    def __init__(self, popen: subprocess.Popen[bytes], folder: str) -> None:
        assert popen.stdin is not None
        assert popen.stdout is not None
        self.popen = popen
        self.pid = popen.pid
        self._out = popen.stdin.fileno()
        self._in = popen.stdout.fileno()
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        self._buffer = bytearray()
        #: Calls served, for ``max_tasks_per_worker``.
        self.calls = 0
        #: ``time.monotonic()`` when it last became idle.
        self.idle_since = 0.0
        #: The ``sys.path`` the worker has (sent again when the parent's changes).
        self.sys_path: list[str] = []
        #: This worker's own side-channel folder (in the pool's): the big buffers
        #: of its calls, both ways. Removed with the worker, so whatever an
        #: interrupted call left there goes with it.
        self.folder = folder
        # Also run if this object is ever dropped without ``kill()``: a worker
        # nobody can reach any more is ended, and its pipes are closed.
        self._end = weakref.finalize(self, _end_process, popen, folder)

    async def request(self, message: tuple[Any, ...]) -> Any:
        """Send ``message``; return the worker's reply.

        Raises:
            anyio.BrokenWorkerProcess: When the worker exits instead of replying.
        """
        try:
            await self._send(frame(pickle.dumps(message, pickle.HIGHEST_PROTOCOL)))
            (size,) = HEADER.unpack(await self._receive(HEADER.size))
            reply = await self._receive(size)
        except (EOFError, BrokenPipeError) as exc:
            raise anyio.BrokenWorkerProcess(await self._how_it_ended()) from exc
        return FromWorker(io.BytesIO(reply)).load()

    async def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._out, view) :]
            except BlockingIOError:
                await anyio.wait_writable(self._out)

    async def _receive(self, size: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < size:
            try:
                chunk = os.read(self._in, max(_READ_SIZE, size - len(buffer)))
            except BlockingIOError:
                await anyio.wait_readable(self._in)
                continue
            if not chunk:
                raise EOFError
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    async def _how_it_ended(self) -> str:
        """The worker's exit status, waited for briefly: its pipes close first."""
        with anyio.move_on_after(_EXIT_STATUS_WAIT):
            await anyio.to_thread.run_sync(
                self.popen.wait, abandon_on_cancel=True, limiter=io_limiter()
            )
        code = self.popen.returncode
        if code is None:
            return "the worker process closed its pipes unexpectedly"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the worker process was killed by {name}"
        return f"the worker process exited unexpectedly with exit code {code}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """Kill the worker and its process group, reap it (a killed process is
        reaped within milliseconds), close its pipes and remove its folder;
        idempotent. Only for a worker no call is talking to."""
        self._end()

    def interrupt(self) -> None:
        """Kill the worker and its group, and nothing more: for a worker a call
        on some loop is talking to. Its pipes stay open, so that call sees them
        end and stops the worker itself, on its own loop."""
        _signal_end(self.popen)

    async def stop(self) -> None:
        """:meth:`kill`, finished even when the caller is cancelled."""
        with anyio.CancelScope(shield=True):
            await in_io_thread(self.kill, abandon_on_cancel=False)


def _signal_end(popen: subprocess.Popen[bytes]) -> None:
    if popen.returncode is None:
        _kill_group(popen.pid)
        with contextlib.suppress(ProcessLookupError):
            popen.kill()


def _end_process(popen: subprocess.Popen[bytes], folder: str) -> None:
    """Kill ``popen`` and its group unless it has ended; reap it; close its pipes;
    remove its side-channel folder."""
    try:
        _signal_end(popen)
        popen.wait()
    finally:
        for pipe in (popen.stdin, popen.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        shutil.rmtree(folder, ignore_errors=True)


def _kill_group(pid: int) -> None:
    """Kill the process group ``pid`` leads (the worker and what its node started)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


class _Slots:
    """A counting semaphore shared by every thread and event loop of the process.

    A free slot is taken at once. Otherwise the task queues (first come, first
    served) and sleeps on an event of its own loop; whoever frees a slot hands it
    to the first waiter and wakes it through that loop's thread-safe call-soon, so
    no thread is spent waiting and no loop ever blocks. A waiter cancelled after
    it was handed a slot passes the slot on.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()

    def grow(self, size: int) -> None:
        with self._lock:
            extra = size - self.size
            if extra > 0:
                self.size = size
                for _ in range(extra):
                    self._release()

    async def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            waiter = _Waiter()
            self._waiters.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            with self._lock:
                if waiter.granted:
                    self._release()  # handed a slot too late: pass it on
                else:
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().grant()
        else:
            self._free += 1


class _Waiter:
    """A task waiting for a slot, and how to wake it from any thread."""

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.granted = False
        self._thread = threading.get_ident()
        self._call_soon = loop_call_soon()

    def grant(self) -> None:
        self.granted = True
        if threading.get_ident() == self._thread:
            self.event.set()
        else:
            self._call_soon(self.event.set)


class WorkerPool:
    """Warm worker processes for process nodes, shared by the runs given it.

    Every runner uses the interpreter's default pool unless given one with
    ``pool=``. A pool of your own fixes the number of processes, their idle
    timeout and the modules they import up front, and ends them when you close
    it::

        async with WorkerPool(max_workers=4, preload=["numpy"]) as pool:
            await ParallelRunner(pool=pool).arun(pipeline, catalog)

    Workers run many nodes, from many runs: state a node leaves in module globals
    is seen by later nodes in the same worker. ``max_tasks_per_worker`` replaces a
    worker after that many calls.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        preload: Iterable[str] = (),
        max_tasks_per_worker: int | None = None,
    ) -> None:
        """Create the pool; no process starts until a node needs one.

        Args:
            max_workers: Worker processes at most, all runs together (default:
                the CPU count). A run's own ``max_workers`` caps it further.
            idle_timeout: Seconds a worker may stay idle before it is stopped.
            preload: Modules every worker imports when it starts, so that the
                first node needing them does not pay for it.
            max_tasks_per_worker: Replace a worker after this many calls (default:
                never), for node code that leaks memory or global state.

        Raises:
            ValueError: For a non-positive ``max_workers``, ``idle_timeout`` or
                ``max_tasks_per_worker``.
            TypeError: When ``preload`` is a string rather than a list of names.
        """
        if max_workers is not None and not _positive_int(max_workers):
            raise ValueError(
                f"max_workers should be a positive int (or None for the CPU count), "
                f"got {max_workers!r}"
            )
        if not _seconds(idle_timeout, allow_zero=False):
            raise ValueError(
                f"idle_timeout should be a positive number of seconds, got "
                f"{idle_timeout!r}"
            )
        if max_tasks_per_worker is not None and not _positive_int(max_tasks_per_worker):
            raise ValueError(
                f"max_tasks_per_worker should be a positive int (or None), got "
                f"{max_tasks_per_worker!r}"
            )
        if isinstance(preload, str):
            raise TypeError(
                f"preload should be a list of module names, like [{preload!r}]"
            )
        self._grows = max_workers is None
        self._slots = _Slots(max_workers or os.cpu_count() or 1)
        self.idle_timeout = float(idle_timeout)
        self.preload: tuple[str, ...] = tuple(preload)
        self.max_tasks_per_worker = max_tasks_per_worker
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._idle: list[_Worker] = []  # the most recently used last
        self._all: set[_Worker] = set()
        self._leases = 0
        self._closed = False
        self._reaper: threading.Thread | None = None
        self._side_channel = SideChannel()
        #: The lifeline pipe's two ends, once the first worker starts.
        self._lifeline_fds: list[int] = []
        self._finalizer = weakref.finalize(
            self, _shut_down, self._all, self._side_channel, self._lifeline_fds
        )

    # ------------------------------------------------------------ public API

    @property
    def max_workers(self) -> int:
        """How many worker processes may exist at once."""
        return self._slots.size

    def worker_pids(self, *, idle_only: bool = False) -> set[int]:
        """The pids of the pool's live workers (only the idle ones, if asked)."""
        with self._lock:
            return {w.pid for w in (self._idle if idle_only else self._all)}

    def close(self) -> None:
        """Stop every worker and refuse new calls; idempotent.

        Runs still using the pool fail: close it once they are done.
        """
        with self._lock:
            self._closed = True
            reaper = self._reaper
        self.stop_workers()
        # Closed, the pool takes no idle worker back: the reaper ends at once.
        if reaper is not None and reaper is not threading.current_thread():
            reaper.join()
        self._finalizer()

    async def aclose(self) -> None:
        """:meth:`close`, without blocking the event loop."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.close)

    def stop_workers(self) -> None:
        """Stop every worker now (idle or busy); the pool stays usable."""
        self._stop(idle_only=False)

    def stop_idle_workers(self) -> None:
        """Stop the idle workers now (Ctrl-C does); busy ones finish their call."""
        self._stop(idle_only=True)

    def _stop(self, *, idle_only: bool) -> None:
        with self._changed:
            idle = list(self._idle)
            busy = [] if idle_only else [w for w in self._all if w not in idle]
            self._all.difference_update(idle + busy)
            self._idle.clear()
            self._changed.notify_all()  # the reaper has nothing left to wait for
        for worker in idle:
            worker.kill()
        for worker in busy:
            # Its call, on its own loop, reads its pipes: closing them here could
            # leave that loop waiting on a closed descriptor forever.
            worker.interrupt()
        with self._lock:
            self._drop_folder_if_unused()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        with self._lock:
            busy = len(self._all) - len(self._idle)
            idle = len(self._idle)
        state = "closed" if self._closed else f"{busy} busy, {idle} idle"
        return f"<WorkerPool max_workers={self.max_workers} {state}>"

    # -------------------------------------------------------- for the engine

    def reserve(self, workers: int) -> None:
        """Make room for a run that may use ``workers`` processes at once.

        Only the default pool grows; a pool of your own keeps its size.
        """
        if self._grows:
            self._slots.grow(workers)

    @property
    def folder(self) -> str:
        """The side-channel folder for big buffers (see ``payload``)."""
        with self._lock:
            return self._side_channel.folder

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[_Worker]:
        """A worker for one call: idle or new, killed if the call does not end well.

        Raises:
            RuntimeError: When the pool is closed.
            OSError: When a worker cannot be started.
            anyio.BrokenWorkerProcess: When a new worker dies while starting.
        """
        await self._slots.acquire()
        try:
            with self._lock:
                self._check_open()
                self._leases += 1
            try:
                worker = self._take_idle() or await self._start()
                try:
                    yield worker
                except BaseException:
                    # Cancelled mid-call (a timeout, a cancelled run) or broken:
                    # the worker is in an unknown state, so it goes.
                    self._forget(worker)
                    await worker.stop()
                    raise
                worker.calls += 1
                if not self._give_back(worker):
                    await worker.stop()  # retired: ended off the loop
            finally:
                with self._lock:
                    self._leases -= 1
                    self._drop_folder_if_unused()
        finally:
            self._slots.release()

    # --------------------------------------------------------------- details

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "This WorkerPool is closed: create a new one, or close it only "
                "after the runs that use it are done."
            )

    def _lifeline_for_child(self) -> int | None:
        """The read end of the lifeline pipe (created now if need be)."""
        if os.name != "posix":
            return None
        if not self._lifeline_fds:
            self._lifeline_fds.extend(os.pipe())  # neither end is inherited by default
        return self._lifeline_fds[0]

    def _take_idle(self) -> _Worker | None:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                # Died while idle (killed from outside): already reaped by
                # ``alive()``; only its pipes are left to close.
                self._all.discard(worker)
                worker.kill()
        return None

    def _give_back(self, worker: _Worker) -> bool:
        """Keep ``worker`` idle; ``False`` when it is to be ended instead."""
        retire = (
            self.max_tasks_per_worker is not None
            and worker.calls >= self.max_tasks_per_worker
        )
        with self._changed:
            if retire or self._closed or worker not in self._all:
                self._all.discard(worker)
            else:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                self._start_reaper()
                return True
        return False

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)

    async def _start(self) -> _Worker:
        with self._lock:
            self._check_open()  # a closed pool's folder and lifeline are gone
            base = self._side_channel.folder
            lifeline = self._lifeline_for_child()
        # Not abandoned if cancelled: the thread's worker is handed over, and the
        # failed handshake below then ends it.
        worker = await in_io_thread(
            _start_worker, lifeline, base, abandon_on_cancel=False
        )
        with self._lock:
            self._all.add(worker)
        try:
            main_path = getattr(sys.modules["__main__"], "__file__", None)
            worker.sys_path = list(sys.path)
            reply = await worker.request(
                (INIT, worker.sys_path, main_path, list(self.preload), worker.folder)
            )
        except BaseException:
            self._forget(worker)
            await worker.stop()
            raise
        if reply != READY:
            self._forget(worker)
            await worker.stop()
            _, description = reply
            assert reply[0] == PRELOAD_FAILED
            raise RuntimeError(
                f"A worker process could not preload {description}\nFix the module "
                f"names given to WorkerPool(preload=...)."
            )
        return worker

    def _drop_folder_if_unused(self) -> None:
        """Remove the side-channel folder when no worker and no call needs it, so
        nothing stays in /dev/shm while the pool is idle (lock held)."""
        if not self._all and not self._leases:
            self._side_channel.close()

    def _start_reaper(self) -> None:
        """Start the reaper thread unless it runs (called with the lock held)."""
        if self._reaper is None:
            self._reaper = threading.Thread(
                target=self._reap, name="dagloop-worker-reaper", daemon=True
            )
            self._reaper.start()

    def _reap(self) -> None:
        """Stop workers idle longer than ``idle_timeout``; end when none is idle."""
        while True:
            with self._changed:
                now = time.monotonic()
                expired = [
                    w for w in self._idle if now - w.idle_since >= self.idle_timeout
                ]
                for worker in expired:
                    self._idle.remove(worker)
                    self._all.discard(worker)
                if not expired:
                    if not self._idle:
                        self._reaper = None
                        self._drop_folder_if_unused()
                        return
                    oldest = self._idle[0].idle_since
                    self._changed.wait(oldest + self.idle_timeout - now)
            for worker in expired:
                worker.kill()


def _start_worker(lifeline: int | None, base: str) -> _Worker:
    """A new worker process and its folder in ``base`` (in a thread: starting a
    process blocks)."""
    popen = _spawn(lifeline)
    folder = os.path.join(base, f"worker-{popen.pid}")
    try:
        os.mkdir(folder)
    except BaseException:
        _end_process(popen, folder)
        raise
    return _Worker(popen, folder)


def _spawn(lifeline: int | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-u", "-m", "dagloop._workers"]
    if lifeline is not None:
        command.append(str(lifeline))
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,
        start_new_session=True,
        pass_fds=() if lifeline is None else (lifeline,),
    )


def _shut_down(
    workers: set[_Worker], side_channel: SideChannel, fds: list[int]
) -> None:
    """Kill ``workers``, remove the folder, close the lifeline (at close or exit)."""
    for worker in list(workers):
        worker.kill()
    workers.clear()
    side_channel.close()
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The interpreter's pool, used by every run not given one; closed at exit."""
    global _default
    with _default_lock:
        if _default is None:
            idle = os.environ.get("DAGLOOP_WORKER_IDLE_TIMEOUT")
            _default = WorkerPool(
                idle_timeout=float(idle) if idle else DEFAULT_IDLE_TIMEOUT
            )
            atexit.register(_default.close)
        return _default
