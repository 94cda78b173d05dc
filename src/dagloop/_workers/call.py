"""One node call in a worker process, seen from the parent.

:func:`call_in_worker` pickles the function and its argument values, has a
worker of the pool run them, replays the log records the call emitted, and turns
each reply status (see :class:`.protocol.Status`) into the node's result or the
error that explains it, naming the node and the fix.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import anyio

from dagloop._workers.errors import ProcessTransferError, WorkerProcessError
from dagloop._workers.payload import FromWorker, dump, load
from dagloop._workers.protocol import CALL, Status
from dagloop.io._async import in_io_thread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from dagloop._workers.pool import WorkerPool

#: Payloads at most this big (with no side-channel files) are pickled and
#: unpickled on the event loop thread: cheaper than a hop to a thread.
_INLINE_BYTES = 1 << 16


async def call_in_worker(
    pool: WorkerPool,
    name: str,
    func: Callable[..., Any],
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    is_generator: bool = False,
    note_worker: Callable[[int], None] | None = None,
) -> Any:
    """Run ``func(*args, **kwargs)`` in a worker of ``pool``; return its result.

    Args:
        pool: Where the call runs.
        name: The node's name, for error messages.
        func: A picklable function.
        args: Its positional argument values.
        kwargs: Its keyword argument values.
        is_generator: The function is a generator: the worker drains it and an
            iterator over its items comes back.
        note_worker: Told the pid of the worker that takes the call.

    Raises:
        ProcessTransferError: When the function, its inputs or its result cannot
            cross the process boundary.
        WorkerProcessError: When the worker died, or none could be started.
        Exception: The function's own exception, unchanged.
    """
    level = logging.getLogger().getEffectiveLevel()
    unsendable: Exception | None = None
    try:
        async with pool.lease() as worker:
            if note_worker is not None:
                note_worker(worker.pid)
            try:
                if _small(args) and _small(kwargs.values()):
                    request = dump((func, args, kwargs), None)
                else:
                    request = await in_io_thread(
                        dump,
                        (func, args, kwargs),
                        worker.folder,
                        abandon_on_cancel=False,
                    )
            except Exception as exc:  # raised below: the worker itself is fine
                unsendable = exc
            else:
                sys_path = None if worker.sys_path == sys.path else list(sys.path)
                status, reply, records = await worker.request(
                    (CALL, request, is_generator, level, sys_path)
                )
                if sys_path is not None:
                    worker.sys_path = sys_path
    except anyio.BrokenWorkerProcess as exc:
        raise WorkerProcessError(
            f"Node '{name}' was running in a worker process that died ({exc}): it "
            f"was killed, crashed or ran out of memory."
        ) from exc
    except OSError as exc:
        raise WorkerProcessError(
            f"Node '{name}' could not start a worker process: {exc}"
        ) from exc
    if unsendable is not None:
        raise transfer_error(
            name, "its function or input values", unsendable
        ) from unsendable
    _replay(records)
    value = await _outcome(name, Status(status), reply)
    if is_generator:
        # Drained there; streamed to the savers here, as a generator (not any
        # iterator): outputs are split the way a generator node's are.
        return (item for item in value)
    return value


#: Types whose values pickle in about a microsecond (when short, for the sized).
_SCALARS = (int, float, bool, complex, type(None))
_SIZED = (str, bytes)
#: At most this many argument values are pickled on the loop thread.
_SMALL_COUNT = 16


def _small(values: Iterable[Any]) -> bool:
    """Whether ``values`` surely pickle in microseconds: a few scalars and short
    strings (no container is looked into: its size is unknown without a walk)."""
    count = 0
    for value in values:
        count += 1
        if count > _SMALL_COUNT:
            return False
        if isinstance(value, _SCALARS):
            continue
        if not (isinstance(value, _SIZED) and len(value) <= _INLINE_BYTES):
            return False
    return True


async def _outcome(name: str, status: Status, reply: Any) -> Any:
    """The value of an ``OK`` reply; the error any other status stands for."""
    if status is Status.UNSENDABLE:
        raise RuntimeError(
            f"Node '{name}' raised an exception in its worker process that cannot "
            f"be sent back to the parent (it cannot be pickled and unpickled, or it "
            f"would end the parent); as it was raised there:\n{reply}"
        )
    if status is Status.UNLOADABLE:
        raise ProcessTransferError(
            f"Node '{name}' cannot run in a worker process: the worker could not "
            f"unpickle its function or inputs. Define the function in an importable "
            f"module (not in a notebook or `python -c`), or run the node with "
            f"executor='thread'. In the worker:\n{reply}"
        )
    if status is Status.UNPICKLABLE:
        raise transfer_error(name, "its result", reply)
    try:
        if reply.files or len(reply.data) > _INLINE_BYTES:
            value = await in_io_thread(load, reply, FromWorker, abandon_on_cancel=False)
        else:
            value = load(reply, FromWorker)
    except Exception as exc:
        what = "the exception it raised" if status is Status.RAISED else "its result"
        raise transfer_error(name, what, exc, "unpickled here") from exc
    if status is Status.RAISED:
        raise value
    return value


def transfer_error(
    name: str, what: str, cause: object, how: str = "pickled"
) -> ProcessTransferError:
    """The error for ``what`` of node ``name`` failing to cross the boundary."""
    return ProcessTransferError(
        f"Node '{name}' cannot run in a worker process: {what} cannot be {how} "
        f"({cause!r}). Use a module-level function and plain data, or run the "
        f"node with executor='thread'."
    )


def _replay(records: list[logging.LogRecord]) -> None:
    """Hand worker log records to the parent's loggers (their levels and handlers)."""
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
