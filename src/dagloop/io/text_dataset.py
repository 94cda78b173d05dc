"""``TextDataset``: a local text file, read and written as one string."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dagloop.io._files import _AsyncFileDataset, offload
from dagloop.io.core import DatasetError

if TYPE_CHECKING:
    import os

    from dagloop.io.core import Version

__all__ = ["TextDataset"]

_CODEC_KEYS = frozenset({"encoding", "errors"})


class TextDataset(_AsyncFileDataset[str, str]):
    """A local text file as a ``str``, with async I/O and atomic saves.

    The string is stored exactly as given: newlines are not translated, so what
    is saved is what loads. ``load_args`` and ``save_args`` take ``encoding``
    (default ``"utf-8"``) and ``errors`` (default ``"strict"``), as for
    ``bytes.decode`` / ``str.encode``.

    Example:
        >>> dataset = TextDataset("data/01_raw/notes.txt")
        >>> dataset.save("hello")  # doctest: +SKIP
        >>> await dataset.aload()  # doctest: +SKIP
        'hello'
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {"encoding": "utf-8"}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"encoding": "utf-8"}
    _KEDRO_TYPE: ClassVar[str] = "kedro_datasets.text.TextDataset"

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
            load_args: ``encoding`` and ``errors`` used to decode the file.
            save_args: ``encoding`` and ``errors`` used to encode the string.
            version: Load/save versions; ``None`` disables versioning.
            metadata: Free-form information about the dataset, kept as given.

        Raises:
            DatasetError: For a non-local path or an unknown argument.
        """
        super().__init__(filepath, load_args, save_args, version, metadata)
        _check_codec_args("load_args", self._load_args)
        _check_codec_args("save_args", self._save_args)

    async def _decode(self, payload: bytes) -> str:
        return await offload(
            payload.decode, *self._codec(self._load_args), size=len(payload)
        )

    async def _encode(self, data: str) -> bytes:
        return await offload(data.encode, *self._codec(self._save_args), size=len(data))

    @staticmethod
    def _codec(args: dict[str, Any]) -> tuple[str, str]:
        return args.get("encoding", "utf-8"), args.get("errors", "strict")


def _check_codec_args(name: str, args: dict[str, Any]) -> None:
    """Reject keys other than ``encoding`` and ``errors`` when the dataset is built.

    Raises:
        DatasetError: Naming the unknown keys.
    """
    unknown = sorted(set(args) - _CODEC_KEYS)
    if unknown:
        raise DatasetError(
            f"TextDataset {name} accepts only 'encoding' and 'errors'; got {unknown}."
        )
