"""Async access to any dataset, and the thread pool sync dataset I/O runs in.

dagloop datasets have ``aload``/``asave``/``aexists``/``arelease``. Datasets from
elsewhere (a ``kedro_datasets`` class, any object with ``load``/``save``) only have
the sync methods; the helpers here run those in a worker thread so the event loop
is never blocked by their I/O.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

_logger = logging.getLogger("dagloop.io")

#: Threads that blocking dataset I/O may occupy at once, per event loop. Separate
#: from the threads that run nodes, so slow I/O cannot starve node execution (and
#: the other way round). 40 matches AnyIO's own default thread limiter.
IO_THREADS = 40

_io_limiter: RunVar[anyio.CapacityLimiter] = RunVar("dagloop_io_limiter")


def io_limiter() -> anyio.CapacityLimiter:
    """The current event loop's limiter for dataset I/O threads ("dagloop-io")."""
    return loop_limiter(_io_limiter, IO_THREADS)


def loop_limiter(
    var: RunVar[anyio.CapacityLimiter], tokens: int
) -> anyio.CapacityLimiter:
    """The limiter ``var`` holds for the current event loop (made on first use):
    a limiter belongs to one loop, and ``run()`` starts a new loop per call."""
    try:
        return var.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(tokens)
        var.set(limiter)
        return limiter


async def in_io_thread(
    func: Callable[..., T], *args: Any, abandon_on_cancel: bool = True
) -> T:
    """Run blocking ``func(*args)`` in a dataset I/O thread and await its result.

    A cancelled caller stops waiting at once (a run's deadline holds): the thread
    cannot be interrupted, so it is abandoned — the call finishes on its own and
    its result is discarded — and a warning names what was left running.

    Args:
        func: The blocking call (a sync dataset's ``load``, ``save``, ...).
        *args: Its arguments.
        abandon_on_cancel: ``False`` for steps whose result the caller must see
            even when cancelled (a file opened, to be closed and removed): the
            caller then waits for them, as they are short.
    """
    if not abandon_on_cancel:
        return await anyio.to_thread.run_sync(func, *args, limiter=io_limiter())
    try:
        return await anyio.to_thread.run_sync(
            func, *args, limiter=io_limiter(), abandon_on_cancel=True
        )
    except anyio.get_cancelled_exc_class():
        _logger.warning(
            "Cancelled while %s ran in a thread: a thread cannot be interrupted, so "
            "it finishes on its own and its result is discarded.",
            _describe(func, args),
        )
        raise


def _describe(func: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """``func(args)`` as a person reads it: the dataset and the operation."""
    owner = getattr(func, "__self__", None)
    name = getattr(func, "__name__", repr(func))
    shown = ", ".join(repr(a) for a in args[:1] if isinstance(a, str))
    if owner is None:
        return f"{name}({shown})"
    # A dataset describes itself; anything else (a catalog, whose text lists
    # every dataset) by its class.
    label = owner if hasattr(owner, "_describe") else type(owner).__name__
    return f"{label}.{name}({shown})"


async def aload(dataset: Any) -> Any:
    """Load ``dataset`` without blocking the loop, whatever kind of dataset it is."""
    native = getattr(dataset, "aload", None)
    if native is not None:
        return await native()
    return await in_io_thread(dataset.load)


async def asave(dataset: Any, data: Any) -> None:
    """Save ``data`` to ``dataset`` without blocking the loop."""
    native = getattr(dataset, "asave", None)
    if native is not None:
        await native(data)
    else:
        await in_io_thread(dataset.save, data)


async def aexists(dataset: Any) -> bool:
    """Check whether ``dataset``'s data exists, without blocking the loop."""
    native = getattr(dataset, "aexists", None)
    if native is not None:
        return bool(await native())
    return bool(await in_io_thread(dataset.exists))


async def arelease(dataset: Any) -> None:
    """Release ``dataset`` without blocking the loop."""
    native = getattr(dataset, "arelease", None)
    if native is not None:
        await native()
    else:
        await in_io_thread(dataset.release)
