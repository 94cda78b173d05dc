"""The worker process of process nodes: ``python -m dagloop._workers``.

A worker reads requests from its stdin and writes replies to its stdout (see
:mod:`.protocol`). It starts with only the standard library and this package
imported — not the engine, its catalog or its HTTP stack — plus the modules the
pool asks it to preload, and imports the parent's main module only if a request
refers to it (a node function defined in a script), as multiprocessing's "spawn"
does, but lazily: workers for functions from importable modules start in tens of
milliseconds.

A worker never outlives its parent: a watchdog thread holds the read end of the
pool's *lifeline* pipe, whose write end only the parent has. When the parent
dies, however it dies (SIGKILL included), the pipe reports end-of-file at once;
the watchdog removes the side-channel folder the parent can no longer clean up
and kills the worker's process group — the worker, even in the middle of a node,
and whatever the node started.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import pickle
import runpy
import shutil
import signal
import sys
import threading
import traceback
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

from dagloop._workers.payload import dump, load
from dagloop._workers.protocol import (
    CALL,
    HEADER,
    INIT,
    PRELOAD_FAILED,
    READY,
    Status,
    frame,
)

if TYPE_CHECKING:
    from dagloop._workers.payload import Payload


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
    request: Payload, is_generator: bool, level: int
) -> tuple[Status, Any, list[logging.LogRecord]]:
    """Call the requested function; collect its log records.

    Returns ``(status, payload, records)`` (see :class:`.protocol.Status`) and
    never raises, so the parent can tell the outcomes apart. Log records travel
    back with the outcome: the worker's own output is not shown anywhere.
    """
    try:
        func, args, kwargs = load(request, unpickler=_MainAware)
    except BaseException as exc:  # e.g. a function of a main module with no file
        return Status.UNLOADABLE, _describe(exc), []
    root = logging.getLogger()
    collector = _RecordCollector()
    previous_level = root.level
    root.addHandler(collector)
    root.setLevel(level)
    status = Status.OK
    try:
        result = func(*args, **kwargs)
        if is_generator:
            result = list(result)
    except BaseException as exc:
        if isinstance(exc, Exception) and _round_trips(exc):
            status, result = Status.RAISED, exc
        else:
            # Raising SystemExit or KeyboardInterrupt in the parent would end it.
            status, result = Status.UNSENDABLE, _describe(exc)
    finally:
        root.removeHandler(collector)
        root.setLevel(previous_level)
    try:
        return status, dump(result, _folder), collector.records
    except Exception as exc:
        return (
            Status.UNPICKLABLE,
            f"{type(result).__name__}: {exc}",
            collector.records,
        )


def _describe(exc: BaseException) -> str:
    """``exc`` and its traceback as text, for exceptions that cannot travel."""
    return "".join(traceback.format_exception(exc)).rstrip()


#: This worker's side-channel folder, in the pool's (from the ``INIT`` request).
_folder: str | None = None


def _init(sys_path: list[str], main_path: str | None, preload: list[str]) -> Any:
    """Take the parent's import path; import the modules to preload."""
    sys.path[:] = sys_path
    _MainAware.main_path = main_path
    for name in preload:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            return PRELOAD_FAILED, f"module {name!r}: {_describe(exc)}"
    return READY


def _watch_parent(lifeline: int) -> None:
    """Block until the parent is gone; then clean up and end this process group."""
    try:
        while os.read(lifeline, 1):
            pass  # the parent never writes: only end-of-file can come
    except OSError:
        pass
    if _folder is not None:
        # The pool's whole folder: every worker of the pool sees the same end
        # of the parent, and ends with it.
        shutil.rmtree(os.path.dirname(_folder), ignore_errors=True)
    try:
        os.killpg(0, signal.SIGKILL)  # this worker and whatever its node started
    finally:
        os._exit(1)


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None  # the parent closed the pipe: time to go
    (size,) = HEADER.unpack(header)
    return stream.read(size)


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


def main(lifeline: int | None = None) -> None:
    """Serve requests until the parent closes the pipe (or dies)."""
    global _folder
    requests, replies = _protocol_streams()
    if lifeline is not None:
        threading.Thread(
            target=_watch_parent, args=(lifeline,), name="dagloop-lifeline", daemon=True
        ).start()
    while (data := _read_frame(requests)) is not None:
        kind, *arguments = pickle.loads(data)
        if kind == INIT:
            *init_arguments, _folder = arguments
            reply: Any = _init(*init_arguments)
        elif kind == CALL:
            *call_arguments, sys_path = arguments
            if sys_path is not None:
                sys.path[:] = sys_path
            reply = call(*call_arguments)
        else:
            raise RuntimeError(f"unknown request {kind!r}")
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # a log record still unpicklable: the outcome matters more
            data = pickle.dumps((*reply[:2], []), pickle.HIGHEST_PROTOCOL)
        replies.write(frame(data))
        replies.flush()
