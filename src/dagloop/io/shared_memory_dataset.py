"""``SharedMemoryDataset``: the default dataset of ``SharedMemoryDataCatalog``.

dagloop's ParallelRunner loads and saves in the parent process, so this dataset
normally just holds data in the parent, like ``MemoryDataset`` (and its data stays
loadable after the runner is gone). Given a ``multiprocessing`` manager that
registers ``MemoryDataset``, it stores the data in that manager instead, as Kedro's
does, for code that shares it with processes of its own.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

from dagloop.io.core import AbstractDataset, DatasetError
from dagloop.io.memory_dataset import MemoryDataset

if TYPE_CHECKING:
    from multiprocessing.managers import SyncManager

__all__ = ["SharedMemoryDataset"]


class SharedMemoryDataset(AbstractDataset[Any, Any]):
    """In-memory data that can be shared through a ``multiprocessing`` manager."""

    # Data held locally moves no bytes anywhere: run inline on the event loop.
    _INLINE_IO = True

    def __init__(self, manager: SyncManager | None = None) -> None:
        """Create the dataset, in a manager's process if one is given."""
        self._EPHEMERAL = True
        self._local = MemoryDataset()
        self.shared_memory_dataset: Any = None
        if manager:
            self.set_manager(manager)

    def set_manager(self, manager: SyncManager) -> None:
        """Keep the data in ``manager``'s process from now on."""
        self.shared_memory_dataset = manager.MemoryDataset()  # type: ignore[attr-defined]
        # Each access is now a round trip to the manager: keep it off the loop.
        self._INLINE_IO = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)  # also keeps unpickling from recursing
        return getattr(self.shared_memory_dataset, name)

    @property
    def _store(self) -> Any:
        return (
            self.shared_memory_dataset
            if self.shared_memory_dataset is not None
            else self._local
        )

    def load(self) -> Any:
        """The stored data."""
        return self._store.load()

    def save(self, data: Any) -> None:
        """Store ``data``.

        Raises:
            DatasetError: When the manager cannot receive ``data`` because it
                cannot be pickled.
        """
        try:
            self._store.save(data)
        except Exception:
            if self.shared_memory_dataset is None:
                raise
            try:
                pickle.dumps(data)
            except Exception as serialisation_exc:
                raise DatasetError(
                    f"{data.__class__!s} cannot be serialised. ParallelRunner "
                    "implicit memory datasets can only be used with serialisable data"
                ) from serialisation_exc
            raise

    def _describe(self) -> dict[str, Any]:
        return {}

    def _exists(self) -> bool:
        return bool(self._store.exists())

    def _release(self) -> None:
        self._store.release()
