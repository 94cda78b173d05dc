"""What the parent and a worker say to each other, and how it is framed.

Each message is a pickle preceded by its length (:data:`HEADER`). The parent
sends a request tuple whose first item is its kind; the worker answers each with
one reply.

* ``(INIT, sys_path, main_path, preload, folder)`` → ``READY`` or
  ``(PRELOAD_FAILED, description)``: sent once when the worker starts.
* ``(CALL, payload, is_generator, log_level, sys_path_or_None)`` →
  ``(status, payload_or_text, log_records)``, ``status`` one of :class:`Status`.
"""

from __future__ import annotations

import struct
from enum import StrEnum

#: Frames are an unsigned 64-bit length, then that many bytes of pickle.
HEADER = struct.Struct("!Q")

#: Request kinds.
INIT = "init"
CALL = "call"

#: Replies to ``INIT``.
READY = "ready"
PRELOAD_FAILED = "preload-failed"


class Status(StrEnum):
    """How a call ended in the worker (the first item of its reply)."""

    #: The function returned; the payload is its pickled result.
    OK = "ok"
    #: The function raised; the payload is the pickled exception.
    RAISED = "raised"
    #: It raised something that cannot travel (or ``SystemExit`` /
    #: ``KeyboardInterrupt``); the payload is its description with traceback.
    UNSENDABLE = "unsendable"
    #: Its result cannot be pickled; the payload says why.
    UNPICKLABLE = "unpicklable"
    #: The request could not be unpickled in the worker; the payload says why.
    UNLOADABLE = "unloadable"


def frame(data: bytes) -> bytes:
    """``data`` with its length in front."""
    return HEADER.pack(len(data)) + data
