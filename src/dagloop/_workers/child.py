"""The worker process of process nodes: ``python -m dagloop._worker``.

A worker reads requests from its stdin and writes replies to its stdout, each a
pickle framed by its length. It starts with only the standard library and
:mod:`dagloop._payload` imported — not the engine, its catalog or its HTTP stack —
and imports the parent's main module only if a request refers to it (a node
function defined in a script), as multiprocessing's "spawn" does, but lazily:
workers for functions from importable modules start in tens of milliseconds.

Kept outside the ``dagloop.runner`` package on purpose: importing that package
would pull in everything the worker avoids.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import runpy
import struct
import sys
import traceback
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

from dagloop._payload import dump, load

if TYPE_CHECKING:
    from dagloop._payload import Payload

#: Frames are an unsigned 64-bit length, then that many bytes of pickle.
HEADER = struct.Struct("!Q")


#: The attributes every log record has; anything else came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))


class _RecordCollector(logging.Handler):
    """Keeps the log records a node emits in a worker process."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(_picklable(record))
        except Exception:
            self.handleError(record)  # a bad log call must not fail the node


def _picklable(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` made safe to pickle: message and traceback rendered now, and
    ``extra=`` values that cannot be pickled replaced by their ``repr``."""
    record.msg = record.getMessage()
    record.args = None
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    for key, value in list(vars(record).items()):
        if key not in _RECORD_ATTRIBUTES and not _round_trips(value):
            setattr(record, key, repr(value))
    return record


def _round_trips(value: object) -> bool:
    """Whether ``value`` survives pickling *and* unpickling (an exception whose
    ``__init__`` takes other arguments than ``args`` pickles but cannot load)."""
    try:
        pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return False
    return True


class _MainAware(pickle.Unpickler):
    """Loads the parent's main module the first time a request refers to it."""

    main_path: str | None = None

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__" and not getattr(
            sys.modules.get("__main__"), "_dagloop_main", False
        ):
            _load_main(self.main_path)
        return super().find_class(module, name)


def _load_main(path: str | None) -> None:
    """Run the parent's main script as ``__mp_main__`` and expose it as ``__main__``.

    Under that name its ``if __name__ == "__main__":`` block does not run again.
    """
    main = ModuleType("__mp_main__")
    if path and os.path.isfile(path):
        main.__dict__.update(runpy.run_path(path, run_name="__mp_main__"))
    main.__dict__["_dagloop_main"] = True
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main


def call(
    request: Payload, is_generator: bool, level: int, folder: str
) -> tuple[str, Any, list[logging.LogRecord]]:
    """Call the requested function; collect its log records.

    Returns ``(status, payload, records)`` and never raises, so the parent can
    tell the outcomes apart: ``"ok"`` (the pickled result), ``"raised"`` (the
    node's exception), ``"unsendable"`` (the node raised an exception that cannot
    be sent back, or ``SystemExit``/``KeyboardInterrupt``: its description),
    ``"unpicklable"`` (a result that cannot be sent back) and ``"unloadable"``
    (the request itself could not be unpickled here). Log records travel back
    with the outcome: the worker's own output is not shown anywhere.
    """
    try:
        func, args, kwargs = load(request, unpickler=_MainAware)
    except BaseException as exc:  # e.g. a function of a main module with no file
        return "unloadable", _describe(exc), []
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
        if isinstance(exc, Exception) and _round_trips(exc):
            status, result = "raised", exc
        else:
            # Raising SystemExit or KeyboardInterrupt in the parent would end it.
            status, result = "unsendable", _describe(exc)
    finally:
        root.removeHandler(collector)
        root.setLevel(previous_level)
    try:
        return status, dump(result, folder), collector.records
    except Exception as exc:
        return "unpicklable", f"{type(result).__name__}: {exc}", collector.records


def _describe(exc: BaseException) -> str:
    """``exc`` and its traceback as text, for exceptions that cannot travel."""
    return "".join(traceback.format_exception(exc)).rstrip()


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None  # the parent closed the pipe: time to go
    (size,) = HEADER.unpack(header)
    return stream.read(size)


def _write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Keep stdin/stdout for the protocol; point fds 0 and 1 at /dev/null.

    Node code that prints (even from C) must not corrupt the replies.
    """
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = io.TextIOWrapper(open(os.devnull, "rb"))  # noqa: SIM115
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return requests, replies


def main() -> None:
    """Serve requests until the parent closes the pipe."""
    requests, replies = _protocol_streams()
    while (frame := _read_frame(requests)) is not None:
        kind, *arguments = pickle.loads(frame)
        if kind == "init":
            sys.path[:], _MainAware.main_path = arguments
            reply: Any = "ready"
        else:
            reply = call(*arguments)
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # a log record still unpicklable: the outcome matters more
            data = pickle.dumps((*reply[:2], []), pickle.HIGHEST_PROTOCOL)
        _write_frame(replies, data)


if __name__ == "__main__":
    main()
