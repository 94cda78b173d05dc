"""Moving values to and from worker processes without pushing big buffers through a pipe.

A worker process receives its call and returns its result through a pipe, which
copies every byte several times (pickling, 64 KiB pipe writes and reads, joining,
unpickling). Large buffers — numpy arrays, pandas columns, bytes — take a side
channel instead: pickle protocol 5 hands them over *out of band*; each one larger
than :data:`OUT_OF_BAND_BYTES` is written to a file in the worker pool's folder on
a RAM disk (``/dev/shm`` where there is one), and only the small pickle stream and
the file names go through the pipe. The receiver reads each file back into memory
it owns, deletes it, and unpickles with those buffers.

The folder belongs to the pool (see :class:`SideChannel`): it is removed when the
pool closes or the interpreter exits, and by the workers if the parent dies, so
an interrupted transfer leaves nothing behind.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Buffers at least this big go through a file; smaller ones stay in the pickle.
OUT_OF_BAND_BYTES = 1 << 20


@dataclass
class Payload:
    """A pickled value whose big buffers wait in files next to it."""

    data: bytes
    files: list[str] = field(default_factory=list)


def dump(value: Any, folder: str | None) -> Payload:
    """Pickle ``value``; write its big buffers into ``folder`` (in-band if None)."""
    if folder is None:
        return Payload(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    files: list[str] = []

    def keep_big_ones_out(buffer: pickle.PickleBuffer) -> bool:
        view = buffer.raw()
        if view.nbytes < OUT_OF_BAND_BYTES:
            return True  # in-band: small buffers are cheaper inside the pickle
        files.append(_write(folder, view))
        return False

    try:
        data = pickle.dumps(value, 5, buffer_callback=keep_big_ones_out)
    except BaseException:
        _remove(files)
        raise
    return Payload(data, files)


class FromWorker(pickle.Unpickler):
    """Unpickles in the parent what a worker sent.

    A worker runs the parent's main script under the name ``__mp_main__`` (so
    its ``if __name__ == "__main__":`` block stays quiet); classes defined there
    are pickled under that name and are the parent's ``__main__`` classes.
    """

    def find_class(self, module: str, name: str) -> Any:
        if module == "__mp_main__":
            module = "__main__"
        return super().find_class(module, name)


def load(payload: Payload, unpickler: type[pickle.Unpickler] = pickle.Unpickler) -> Any:
    """Rebuild the value; the payload's files are read and deleted.

    Args:
        payload: What :func:`dump` made.
        unpickler: The unpickler class (a worker uses one that finds classes of
            the parent's main module).
    """
    try:
        buffers = [_read(path) for path in payload.files]
        return unpickler(io.BytesIO(payload.data), buffers=buffers).load()
    finally:
        _remove(payload.files)


def _write(folder: str, view: memoryview) -> str:
    fd, path = tempfile.mkstemp(dir=folder, suffix=".buf")
    with os.fdopen(fd, "wb") as file:
        file.write(view)
    return path


def _read(path: str) -> bytearray:
    size = os.path.getsize(path)
    buffer = bytearray(size)
    with open(path, "rb", buffering=0) as file:
        file.readinto(buffer)
    return buffer


def _remove(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


class SideChannel:
    """The folder a pool's out-of-band buffers go through; created on first use."""

    def __init__(self) -> None:
        self._folder: str | None = None

    @property
    def folder(self) -> str:
        """The folder, created now if it does not exist yet."""
        if self._folder is None:
            ram = "/dev/shm"
            base = ram if os.path.isdir(ram) and os.access(ram, os.W_OK) else None
            self._folder = tempfile.mkdtemp(prefix="dagloop-", dir=base)
        return self._folder

    def close(self) -> None:
        """Remove the folder and anything an interrupted transfer left in it."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
