"""``MemoryDataset``: data kept in the process, copied on the way in and out."""

from __future__ import annotations

import copy
import enum
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from dagloop.io.core import AbstractDataset, DatasetError, TCopyMode

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["MemoryDataset"]


class _Empty(enum.Enum):
    """The "no data yet" marker: an enum member, so it survives pickling as itself."""

    EMPTY = "EMPTY"


_EMPTY = _Empty.EMPTY


class MemoryDataset(AbstractDataset[Any, Any]):
    """Holds data in memory.

    Data is copied when saved and when loaded, so a node cannot change what another
    node receives. How it is copied follows ``copy_mode``, or the data's type:
    pandas DataFrames and numpy arrays are ``.copy()``-ed, other data frames (Spark,
    Polars, ...) are passed as they are, everything else is deep-copied.
    """

    # No I/O: loading and saving run inline on the event loop.
    _INLINE_IO = True

    def __init__(
        self,
        data: Any = _EMPTY,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset, optionally holding ``data`` (``None`` is allowed here).

        Args:
            data: Initial data.
            copy_mode: ``"deepcopy"``, ``"copy"`` or ``"assign"``; inferred when None.
            metadata: Free-form information about the dataset, kept as given.
        """
        self._data: Any = _EMPTY
        self._copy_mode = copy_mode
        self.metadata = metadata
        self._EPHEMERAL = True
        if data is not _EMPTY:
            self.save.__wrapped__(self, data)  # type: ignore[attr-defined]

    def load(self) -> Any:
        """A copy of the stored data.

        Raises:
            DatasetError: When nothing has been saved yet.
        """
        data = self._data
        if data is _EMPTY:
            raise DatasetError("Data for MemoryDataset has not been saved yet.")
        if _handing_over.get() or _own_copy(data, self._copy_mode):
            return data
        return _copy_with_mode(data, self._copy_mode or _infer_copy_mode(data))

    def save(self, data: Any) -> None:
        """Store a copy of ``data``."""
        if _handing_over.get() or _own_copy(data, self._copy_mode):
            self._data = data
            return
        self._data = _copy_with_mode(data, self._copy_mode or _infer_copy_mode(data))

    def _exists(self) -> bool:
        return self._data is not _EMPTY

    def _release(self) -> None:
        self._data = _EMPTY

    def _describe(self) -> dict[str, Any]:
        if self._data is not _EMPTY:
            return {"data": f"<{type(self._data).__name__}>"}
        return {"data": None}


#: Types whose copy mode is always "deepcopy": checked first, as the common case.
_PLAIN_TYPES = frozenset(
    {int, float, str, bytes, bool, type(None), list, dict, tuple, set}
)


#: Set while values cross to or from a worker process: pickling copies them
#: anyway, so copying them here as well would only cost time and memory (two
#: extra copies of every array a process node reads or writes).
_handing_over: ContextVar[bool] = ContextVar(
    "dagloop_memory_handing_over", default=False
)


@contextmanager
def _without_copies() -> Iterator[None]:
    """Load and save memory datasets without copying, for the current task.

    Only for values that are pickled for another process right after loading, or
    that were just unpickled from one and are saved by nobody else.
    """
    token = _handing_over.set(True)
    try:
        yield
    finally:
        _handing_over.reset(token)


_IMMUTABLE_TYPES = frozenset({int, float, complex, str, bytes, bool, type(None)})


#: Copy modes under which an immutable scalar is its own copy.
_SCALAR_NEEDS_NO_COPY = frozenset({None, "deepcopy", "assign"})


def _own_copy(data: Any, copy_mode: TCopyMode | None) -> bool:
    """Whether ``data`` is its own copy: an immutable scalar (the per-dataset
    fast path; other modes, invalid ones included, go through ``_copy_with_mode``)."""
    return type(data) in _IMMUTABLE_TYPES and copy_mode in _SCALAR_NEEDS_NO_COPY


def _infer_copy_mode(data: Any) -> TCopyMode:
    """Pick how to copy ``data`` from its type (imports nothing that is not loaded)."""
    if type(data) in _PLAIN_TYPES:
        return "deepcopy"
    pandas = sys.modules.get("pandas")
    numpy = sys.modules.get("numpy")
    ibis = sys.modules.get("ibis")
    if (pandas and isinstance(data, pandas.DataFrame)) or (
        numpy and isinstance(data, numpy.ndarray)
    ):
        return "copy"
    if type(data).__name__ == "DataFrame" or (ibis and isinstance(data, ibis.Table)):
        return "assign"
    return "deepcopy"


def _copy_with_mode(data: Any, copy_mode: TCopyMode) -> Any:
    """Copy ``data`` as ``copy_mode`` says.

    Raises:
        DatasetError: For an unknown mode.
    """
    if copy_mode == "deepcopy":
        return copy.deepcopy(data)  # scalars never get here: see _own_copy
    if copy_mode == "copy":
        return data.copy()
    if copy_mode == "assign":
        return data
    raise DatasetError(
        f"Invalid copy mode: {copy_mode}. Possible values are: deepcopy, copy, assign."
    )


# The spellings Kedro recognises, plus dagloop's module path.
_MEMORY_DATASET_NAMES = {
    "MemoryDataset",
    "dagloop.io.memory_dataset.MemoryDataset",
    "kedro.io.memory_dataset.MemoryDataset",
}


def _is_memory_dataset(ds_or_type: Any) -> bool:
    """Whether a dataset, or a ``type`` string from config, is a ``MemoryDataset``."""
    if isinstance(ds_or_type, MemoryDataset):
        return True
    if isinstance(ds_or_type, str):
        return ds_or_type in _MEMORY_DATASET_NAMES
    return False
