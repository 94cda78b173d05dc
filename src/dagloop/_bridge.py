"""The one place where synchronous code runs asynchronous code.

Sync entry points (``runner.run()``, ``dataset.load()`` of an async-native dataset)
call :func:`run_sync`; :func:`run_on_own_loop` moves a whole async call to a loop
of its own in a worker thread. It picks the only safe way for the calling thread:

* in a worker thread started by AnyIO (a sync node of a dagloop run), it hands the
  coroutine back to that run's event loop, so shared resources such as the HTTP
  connection pool of that loop are reused;
* in a thread whose event loop is running (Jupyter, a sync call made from async
  code), it runs the coroutine on a fresh event loop in a helper thread through a
  blocking portal — blocking this thread but never re-entering its loop;
* otherwise it starts an event loop for the call with :func:`anyio.run`.

No ``nest_asyncio``, and no parsing of error messages to tell these cases apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import threading
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")

_logger = logging.getLogger("dagloop.runner")

__all__ = [
    "backend_options",
    "default_backend",
    "in_event_loop_thread",
    "run_on_own_loop",
    "run_sync",
]


def in_event_loop_thread() -> bool:
    """Whether an async library's event loop (asyncio or trio) runs in this thread."""
    try:
        anyio.lowlevel.current_token()
    except anyio.NoEventLoopError:
        pass
    else:
        return True
    # Outside any task, AnyIO (through sniffio) sees no loop, yet asyncio's runs:
    # in a plain callback (loop.call_soon), or under a greenlet bridge such as
    # Playwright's sync API. A new loop cannot start in this thread then either.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_anyio_worker_thread() -> bool:
    """Whether this thread was started by ``anyio.to_thread.run_sync``."""
    try:
        anyio.from_thread.check_cancelled()
    except anyio.NoEventLoopError:
        return False
    except anyio.get_cancelled_exc_class():
        return True  # cancelled, but still a worker thread; the call will fail cleanly
    except RuntimeError:
        return False  # older AnyIO releases signal "not a worker thread" this way
    return True


def default_backend() -> str:
    """The backend for loops dagloop starts itself: ``DAGLOOP_BACKEND`` or asyncio."""
    return os.environ.get("DAGLOOP_BACKEND", "asyncio")


def backend_options(backend: str, use_uvloop: bool | None = None) -> dict[str, Any]:
    """Options for ``backend``: uvloop for asyncio when installed, unless disabled.

    Args:
        backend: ``"asyncio"`` or ``"trio"``.
        use_uvloop: Force uvloop on or off; ``None`` uses it when it is installed and
            ``DAGLOOP_UVLOOP`` is not ``0``.
    """
    if backend != "asyncio":
        return {}
    if use_uvloop is None:
        use_uvloop = os.environ.get("DAGLOOP_UVLOOP", "1") != "0" and (
            importlib.util.find_spec("uvloop") is not None
        )
    return {"use_uvloop": use_uvloop}


def run_sync(
    func: Callable[..., Awaitable[T]],
    *args: Any,
    backend: str | None = None,
    use_uvloop: bool | None = None,
) -> T:
    """Run ``await func(*args)`` from synchronous code and return its result.

    Args:
        func: A coroutine function.
        *args: Its positional arguments.
        backend: Event loop backend when a new loop is needed (default:
            :func:`default_backend`).
        use_uvloop: See :func:`backend_options`.

    Returns:
        What the coroutine returned; its exception propagates unchanged.
    """
    if _in_anyio_worker_thread():
        result: T = anyio.from_thread.run(_call, func, *args)
        return result
    chosen = backend or default_backend()
    options = backend_options(chosen, use_uvloop)
    try:
        if in_event_loop_thread():
            with anyio.from_thread.start_blocking_portal(chosen, options) as portal:
                result = portal.call(_call, func, *args)
            return result
        return anyio.run(_call, func, *args, backend=chosen, backend_options=options)
    except BaseExceptionGroup as group:
        # Ctrl-C reaches trio's nursery as a group of KeyboardInterrupt alone;
        # the caller of a sync call expects the KeyboardInterrupt itself. Any
        # other group is left alone: it may hold several different errors.
        interrupt = _only_keyboard_interrupts(group)
        if interrupt is None:
            raise
        raise interrupt from None


def _only_keyboard_interrupts(
    group: BaseExceptionGroup[Any],
) -> KeyboardInterrupt | None:
    """The first ``KeyboardInterrupt`` if ``group`` holds nothing else."""
    matched, rest = group.split(KeyboardInterrupt)
    if matched is None or rest is not None:
        return None
    leaf: BaseException = matched
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf if isinstance(leaf, KeyboardInterrupt) else None


async def run_on_own_loop(
    func: Callable[..., Awaitable[T]],
    *args: Any,
    limiter: anyio.CapacityLimiter | None = None,
) -> T:
    """Await ``func(*args)`` on a new event loop in a worker thread.

    One hop for the whole call instead of one per blocking step inside it: the
    caller's loop only waits. Cancelling the caller cancels the call on its own
    loop and waits for it to stop — briefly: after :data:`STOP_GRACE` seconds the
    thread is abandoned (something in it cannot be interrupted) with a warning,
    so the caller always gets control back at once.

    Args:
        func: A coroutine function.
        *args: Its positional arguments.
        limiter: Limits the threads such calls occupy (default: AnyIO's).
    """
    handle = _OwnLoop()
    stopped = anyio.Event()
    tell_caller = loop_call_soon()

    async def body() -> T:
        with anyio.CancelScope() as scope:
            handle.attach(scope)
            _own_loop.set(handle)
            return await func(*args)
        raise _Stopped  # cancelled by the caller, which no longer waits for it

    def in_thread() -> T:
        backend = default_backend()
        try:
            return anyio.run(
                body, backend=backend, backend_options=backend_options(backend)
            )
        finally:
            # The caller's loop may be gone by now (it stopped waiting): then
            # nobody needs to hear that this thread is done.
            with contextlib.suppress(RuntimeError):
                tell_caller(stopped.set)

    try:
        return await anyio.to_thread.run_sync(
            in_thread, abandon_on_cancel=True, limiter=limiter
        )
    except anyio.get_cancelled_exc_class():
        handle.cancel()
        with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_GRACE):
            await stopped.wait()
        if not stopped.is_set():
            _logger.warning(
                "Cancelled while a run's own thread was inside node code that cannot "
                "be interrupted: it stops after that node, whose result is discarded."
            )
        raise


#: Seconds a cancelled :func:`run_on_own_loop` call waits for its thread to stop.
STOP_GRACE = 0.05

#: The :func:`run_on_own_loop` call the current task runs in, if any.
_own_loop: ContextVar[_OwnLoop | None] = ContextVar("dagloop_own_loop", default=None)


class _Stopped(Exception):
    """A :func:`run_on_own_loop` call ended by its caller's cancellation."""


def stop_requested() -> bool:
    """Whether the caller of the :func:`run_on_own_loop` call this code runs in
    has cancelled it (its cancellation is delivered at the next checkpoint).

    A plain read, for loops that never wait otherwise: they yield only when it
    is true instead of at every step.
    """
    handle = _own_loop.get()
    return handle is not None and handle.cancelled


class _OwnLoop:
    """The cancel scope of a call running on a loop of its own, cancellable from
    any thread (before the call has even started)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel: Callable[[], Any] | None = None
        #: Set (once, never cleared) when the caller cancels.
        self.cancelled = False

    def attach(self, scope: anyio.CancelScope) -> None:
        """Called on the call's own loop, as it starts."""
        call_soon = loop_call_soon()
        with self._lock:
            self._cancel = partial(call_soon, scope.cancel)
            if self.cancelled:
                scope.cancel()

    def cancel(self) -> None:
        """Cancel the call from another thread, without waiting for it."""
        with self._lock:
            self.cancelled = True
            if self._cancel is not None:
                # The call may have ended and its loop closed meanwhile (trio's
                # RunFinishedError is a RuntimeError too): nothing to cancel.
                with contextlib.suppress(RuntimeError):
                    self._cancel()


def on_asyncio() -> bool:
    """Whether an asyncio (or uvloop) loop runs in this thread (else trio, or none)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the documented signal: no asyncio loop in this thread
        return False
    return True


def loop_call_soon() -> Callable[..., object]:
    """The running loop's thread-safe "call this soon" (asyncio, uvloop or trio)."""
    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:  # the documented signal: no asyncio loop in this thread
        import trio

        return trio.lowlevel.current_trio_token().run_sync_soon


async def _call(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    # Accepts any awaitable-returning callable, not only ``async def`` functions.
    result: T = await func(*args)
    return result
