"""Shared machinery of the local file datasets: paths, async reads, atomic writes.

File I/O goes through aiofiles, but never through its default event loop
executor: aiofiles performs each blocking call as
``loop.run_in_executor(executor, func)`` and uses nothing else of the loop, so
every call here passes :data:`_AIO_LOOP`, which runs that call with
:func:`~dagloop.io._async.in_io_thread` instead. That makes the file datasets work
on any AnyIO backend (trio as well as asyncio), keeps their threads under
dagloop's "dagloop-io" limiter, and gives AnyIO's cancellation semantics (a
thread call always finishes before a cancellation is delivered). For the same
reason aiofiles' ``async with`` form is never used: its ``__aexit__`` asks asyncio
for the running loop.
"""

from __future__ import annotations

import abc
import contextlib
import inspect
import os
import secrets
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import aiofiles
import aiofiles.os
import anyio

from dagloop.io._async import in_io_thread
from dagloop.io._paths import _parse_filepath
from dagloop.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_protocol_and_path,
)

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop
    from collections.abc import Awaitable, Callable, Mapping

T = TypeVar("T")
_DI = TypeVar("_DI")
_DO = TypeVar("_DO")

#: Payloads smaller than this are encoded/decoded on the event loop thread: a
#: thread hop would cost more than the work. Bigger ones go to an I/O thread.
INLINE_CODEC_BYTES = 64 * 1024


class _IOThreadLoop:
    """The one part of an event loop aiofiles uses, backed by dagloop-io threads."""

    def run_in_executor(
        self, executor: object, func: Callable[..., T], *args: Any
    ) -> Awaitable[T]:
        """Run ``func(*args)`` in a dataset I/O thread (``executor`` is ignored).

        Never abandoned: each step is short, and a cancelled save must see the
        temporary file it opened, to close and remove it (``write_atomic``).
        """
        return in_io_thread(func, *args, abandon_on_cancel=False)


_AIO_LOOP = cast("AbstractEventLoop", _IOThreadLoop())


def local_path(filepath: str | os.PathLike[str], dataset: str, kedro_type: str) -> str:
    """The local path ``filepath`` names: a plain path or a ``file://`` URL.

    Args:
        filepath: The dataset's configured path.
        dataset: The dataset class name, for the error message.
        kedro_type: The kedro-datasets class to suggest for remote storage.

    Raises:
        DatasetError: When ``filepath`` uses any protocol other than ``file``.
    """
    protocol, path = get_protocol_and_path(os.fspath(filepath))
    if protocol != "file":
        raise DatasetError(
            f"{dataset} cannot use '{os.fspath(filepath)}': dagloop's file datasets "
            f"are local-only, and this path uses the '{protocol}' protocol. For "
            f"remote storage, use the kedro-datasets class by its full path "
            f"instead (type: {kedro_type})."
        )
    return path


async def offload(func: Callable[..., T], *args: Any, size: int | None = None) -> T:
    """Run CPU-bound ``func(*args)``: inline when ``size`` is small, else in a thread.

    Args:
        func: The encoder or decoder.
        *args: Its arguments.
        size: The payload size in bytes or characters; ``None`` if unknown, in
            which case the work always runs in a thread.
    """
    if size is not None and size < INLINE_CODEC_BYTES:
        return func(*args)
    return await in_io_thread(func, *args)


async def read_bytes(path: str) -> bytes:
    """The whole content of the file at ``path``."""
    file = await aiofiles.open(path, "rb", loop=_AIO_LOOP)
    try:
        return await file.read()
    finally:
        with anyio.CancelScope(shield=True):
            await file.close()


async def path_exists(path: str) -> bool:
    """Whether ``path`` exists."""
    return await aiofiles.os.path.exists(path, loop=_AIO_LOOP)


def _temp_path(path: str) -> str:
    """A fresh hidden file name next to ``path``, for writing before a rename."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.{secrets.token_hex(8)}.tmp")


async def write_atomic(path: str, payload: bytes) -> None:
    """Replace the file at ``path`` with ``payload``, all at once or not at all.

    The bytes go to a new temporary file in the same directory, which is flushed,
    fsynced and then renamed over ``path`` (a rename within one file system is
    atomic). Readers see the old content or the new, never a partial file. If
    anything fails or the task is cancelled before the rename, the temporary file
    is removed and the old file is untouched. Missing parent directories are
    created.

    Args:
        path: The target file.
        payload: Its new content.
    """
    parent = os.path.dirname(path)
    if parent:
        await aiofiles.os.makedirs(parent, exist_ok=True, loop=_AIO_LOOP)
    temp = _temp_path(path)
    try:
        await _write_synced(temp, payload)
        await aiofiles.os.replace(temp, path, loop=_AIO_LOOP)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _remove_if_present(temp)
        raise


async def _write_synced(path: str, payload: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``payload``, flushed to disk."""
    file = await aiofiles.open(path, "xb", loop=_AIO_LOOP)
    try:
        await file.write(payload)
        await file.flush()
        await in_io_thread(os.fsync, file.fileno(), abandon_on_cancel=False)
    finally:
        with anyio.CancelScope(shield=True):
            await file.close()


async def _remove_if_present(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        await aiofiles.os.remove(path, loop=_AIO_LOOP)


class _AsyncFileDataset(AbstractVersionedDataset[_DI, _DO], abc.ABC):
    """A local file read and written asynchronously, with atomic saves.

    Subclasses turn bytes into data and back (``_decode``/``_encode``); this class
    does the paths, versioning, I/O and errors. ``load_args``/``save_args`` are
    merged over the class's ``DEFAULT_LOAD_ARGS``/``DEFAULT_SAVE_ARGS``.
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {}
    #: The kedro-datasets class that reads the same format from remote storage.
    _KEDRO_TYPE: ClassVar[str] = ""

    @classmethod
    def _cannot_honour(cls, config: Mapping[str, Any]) -> str | None:
        """Why this class cannot serve a catalog entry written for the
        kedro-datasets class of the same name; ``None`` when it can.

        It can when the entry names a local file and only arguments this
        class takes (``versioned`` aside, which the catalog handles).
        """
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        extra = sorted(set(config) - accepted - {"versioned"})
        if extra:
            return f"it takes no {', '.join(map(repr, extra))}"
        filepath = config.get("filepath")
        protocol = (
            _parse_filepath(os.fspath(filepath))["protocol"] if filepath else "file"
        )
        if protocol != "file":
            return f"it reads and writes local files only, not {protocol}:// paths"
        return None

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Set up the dataset; nothing is read or written yet.

        Args:
            filepath: A local path or ``file://`` URL.
            load_args: Options for decoding, over ``DEFAULT_LOAD_ARGS``.
            save_args: Options for encoding, over ``DEFAULT_SAVE_ARGS``.
            version: Load/save versions; ``None`` disables versioning.
            metadata: Free-form information about the dataset, kept as given.

        Raises:
            DatasetError: When ``filepath`` is not a local path.
        """
        path = local_path(filepath, type(self).__name__, self._KEDRO_TYPE)
        super().__init__(filepath=PurePosixPath(path), version=version)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        self.metadata = metadata

    @abc.abstractmethod
    async def _decode(self, payload: bytes) -> _DO:
        """Turn the file's bytes into data."""

    @abc.abstractmethod
    async def _encode(self, data: _DI) -> bytes:
        """Turn data into the file's bytes."""

    async def _aload(self) -> _DO:
        payload = await read_bytes(await self._path(self._get_load_path))
        return await self._decode(payload)

    async def _asave(self, data: _DI) -> None:
        path = await self._path(self._get_save_path)
        await write_atomic(path, await self._encode(data))

    async def _aexists(self) -> bool:
        return await path_exists(await self._path(self._get_load_path))

    async def _path(self, getter: Callable[[], PurePosixPath]) -> str:
        """``getter()``; resolving a version globs and stats, so that runs off the loop."""
        path = await in_io_thread(getter) if self._version else getter()
        return path.as_posix()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": "file",
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }
