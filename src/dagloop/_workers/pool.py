"""The worker processes of one run: started on demand, reused, all stopped at the end.

Each worker is ``python -m dagloop._worker`` talking over its stdin/stdout (see
that module); the pool owns them for the duration of the run, so nothing it
started survives the run:

* a worker whose call is cancelled (a node timeout, a cancelled run) is killed,
  as is one cancelled while it starts;
* a worker that dies raises ``anyio.BrokenWorkerProcess`` for the call it was on;
* :meth:`WorkerPool.aclose` kills and reaps whatever is left.

Each worker leads its own session (and so process group): a Ctrl-C typed in the
terminal reaches the parent only, which stops the run and the workers itself,
and killing a worker kills its group, so processes a node function started do
not outlive it either.

The "dagloop-processes" limiter caps how many workers are busy (and so exist).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import subprocess
import sys
from typing import Any

import anyio
from anyio.streams.buffered import BufferedByteReceiveStream

from dagloop._payload import FromWorker
from dagloop._worker import HEADER


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self, process: anyio.abc.Process) -> None:
        if process.stdin is None or process.stdout is None:
            raise RuntimeError("a worker process needs pipes on stdin and stdout")
        self.process = process
        self._requests = process.stdin
        self._replies = BufferedByteReceiveStream(process.stdout)

    async def request(self, message: tuple[Any, ...]) -> Any:
        """Send ``message``; return the worker's reply.

        Raises:
            anyio.BrokenWorkerProcess: When the worker exits instead of replying.
        """
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        try:
            await self._requests.send(HEADER.pack(len(data)) + data)
            (size,) = HEADER.unpack(await self._replies.receive_exactly(HEADER.size))
            reply = await self._replies.receive_exactly(size)
        except (
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.BrokenResourceError,
        ) as exc:
            raise anyio.BrokenWorkerProcess(await self._how_it_ended()) from exc
        return FromWorker(io.BytesIO(reply)).load()

    async def _how_it_ended(self) -> str:
        """The worker's exit status, waited for briefly: its pipes close first."""
        with anyio.move_on_after(_EXIT_STATUS_WAIT):
            await self.process.wait()
        code = self.process.returncode
        if code is None:
            return "the worker process closed its pipes unexpectedly"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the worker process was killed by {name}"
        return f"the worker process exited unexpectedly with exit code {code}"

    async def stop(self) -> None:
        """Kill the process (and its group) and wait for it to be reaped, even
        when cancelled."""
        with anyio.CancelScope(shield=True):
            if self.process.returncode is None:
                _kill_group(self.process.pid)
                self.process.kill()
            await self.process.aclose()


#: How long a worker whose pipes closed gets to report its exit status.
_EXIT_STATUS_WAIT = 1.0


def _kill_group(pid: int) -> None:
    """Kill the process group ``pid`` leads (the worker and what its node started)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


class WorkerPool:
    """Worker processes for one run's process nodes."""

    def __init__(self, size: int) -> None:
        """Allow up to ``size`` workers at once."""
        self.limiter = anyio.CapacityLimiter(size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()

    async def call(self, message: tuple[Any, ...]) -> Any:
        """Run ``message`` on an idle (or new) worker and return its reply."""
        async with self.limiter:
            worker = self._idle.pop() if self._idle else await self._start()
            try:
                reply = await worker.request(message)
            except BaseException:
                # Cancelled mid-call (timeout, cancelled run) or broken: the
                # worker is in an unknown state, so it goes.
                await self._discard(worker)
                raise
            self._idle.append(worker)
            return reply

    async def _start(self) -> _Worker:
        process = await anyio.open_process(
            [sys.executable, "-u", "-m", "dagloop._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            start_new_session=True,
        )
        worker = _Worker(process)
        self._all.add(worker)
        try:
            main_path = getattr(sys.modules["__main__"], "__file__", None)
            await worker.request(("init", list(sys.path), main_path))
        except BaseException:
            await self._discard(worker)
            raise
        return worker

    async def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        await worker.stop()

    async def aclose(self) -> None:
        """Stop every worker; the pool can still be used afterwards."""
        for worker in list(self._all):
            await self._discard(worker)
