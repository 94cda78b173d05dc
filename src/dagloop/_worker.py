"""What runs inside a worker process for a process node.

Kept outside the ``dagloop.runner`` package on purpose: a worker imports this
module (to unpickle the call) before anything else, and it needs only the
standard library and :mod:`dagloop._payload` — not the engine, its catalog or
its HTTP stack, which would add ~150 ms to every worker's start.
"""

from __future__ import annotations

import logging
import pickle
from typing import TYPE_CHECKING, Any

from dagloop._payload import dump, load

if TYPE_CHECKING:
    from dagloop._payload import Payload


class _RecordCollector(logging.Handler):
    """Keeps the log records a node emits in a worker process."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Make the record safe to pickle: render the message and traceback now.
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def worker_call(
    request: Payload, is_generator: bool, level: int, folder: str
) -> tuple[str, Any, list[logging.LogRecord]]:
    """Run in the worker process: call the function, collect its log records.

    Returns ``(status, payload, records)`` and never raises, so the parent can
    tell an error of the node (``"raised"``) from a result that cannot be sent
    back (``"unpicklable"``). AnyIO's workers send stdout/stderr to /dev/null, so
    log records travel back with the outcome.
    """
    func, args, kwargs = load(request)
    root = logging.getLogger()
    collector = _RecordCollector()
    previous_level = root.level
    root.addHandler(collector)
    root.setLevel(level)
    status = "ok"
    try:
        result = func(*args, **kwargs)
        if is_generator:
            result = list(result)
    except BaseException as exc:
        status, result = "raised", _sendable(exc)
    finally:
        root.removeHandler(collector)
        root.setLevel(previous_level)
    try:
        return status, dump(result, folder), collector.records
    except Exception as exc:
        return "unpicklable", f"{type(result).__name__}: {exc}", collector.records


def _sendable(exc: BaseException) -> Exception:
    """``exc``, or a stand-in the parent can receive and raise without exiting.

    ``SystemExit``/``KeyboardInterrupt`` from node code must not end the parent,
    and an exception that cannot be pickled must still be reported.
    """
    if isinstance(exc, Exception):
        try:
            pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
        except Exception:
            return RuntimeError(
                f"{exc!r} (raised in a worker process; it could not be pickled)"
            )
        return exc
    return RuntimeError(f"{exc!r} raised by node code in a worker process")
