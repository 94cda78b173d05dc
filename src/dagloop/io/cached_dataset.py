"""``CachedDataset``: keep a copy of another dataset's data in memory."""

from __future__ import annotations

import logging
from typing import Any

from dagloop.io import _async
from dagloop.io.core import (
    VERSIONED_FLAG_KEY,
    AbstractDataset,
    TCopyMode,
    Version,
    _is_dataset,
)
from dagloop.io.memory_dataset import MemoryDataset

__all__ = ["CachedDataset"]

_logger = logging.getLogger(__name__)


class CachedDataset(AbstractDataset[Any, Any]):
    """Wraps a dataset and caches its data in memory after the first load or save.

    Useful for expensive sources read by several nodes. The cache lives in this
    process, so the dataset cannot be sent to another process (``_SINGLE_PROCESS``).
    """

    _SINGLE_PROCESS = True

    def __init__(
        self,
        dataset: AbstractDataset[Any, Any] | dict[str, Any],
        version: Version | None = None,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Wrap ``dataset``.

        Args:
            dataset: A dataset, or its config (``{"type": ..., ...}``).
            version: Version for a wrapped dataset given as config; marks it versioned.
            copy_mode: How the cache copies data (see ``MemoryDataset``).
            metadata: Free-form information about the dataset.

        Raises:
            ValueError: When ``dataset`` is neither, or its config says ``versioned``.
        """
        self._EPHEMERAL = True
        if isinstance(dataset, dict):
            self._dataset = self._from_config(dataset, version)
        elif _is_dataset(dataset):
            self._dataset = dataset
        else:
            raise ValueError(
                "The argument type of 'dataset' should be either a dict/YAML "
                "representation of the dataset, or the actual dataset object."
            )
        self._cache = MemoryDataset(copy_mode=copy_mode)
        self.metadata = metadata

    @staticmethod
    def _from_config(
        config: dict[str, Any], version: Version | None
    ) -> AbstractDataset[Any, Any]:
        if VERSIONED_FLAG_KEY in config:
            raise ValueError(
                "Cached datasets should specify that they are versioned in the "
                "'CachedDataset', not in the wrapped dataset."
            )
        if version:
            config[VERSIONED_FLAG_KEY] = True
            return AbstractDataset.from_config(
                "_cached", config, version.load, version.save
            )
        return AbstractDataset.from_config("_cached", config)

    def _release(self) -> None:
        self._cache.release()
        self._dataset.release()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset._describe(), "cache": self._cache._describe()}

    def __repr__(self) -> str:
        wrapped = self._dataset
        described = {
            "dataset": wrapped._pretty_repr(wrapped._describe())
            if hasattr(wrapped, "_pretty_repr")
            else repr(wrapped),
            "cache": self._pretty_repr_of(self._cache),
        }
        return self._pretty_repr(described)

    def _pretty_repr_of(self, dataset: MemoryDataset) -> str:
        # Kedro names the cache with the wrapped dataset's class path; so do we.
        wrapped = self._dataset
        if hasattr(wrapped, "_pretty_repr"):
            return str(wrapped._pretty_repr(dataset._describe()))
        return repr(dataset)

    def load(self) -> Any:
        """The cached data, loading (and caching) the wrapped dataset the first time."""
        if self._cache.exists():
            return self._cache.load()
        data = self._dataset.load()
        self._cache.save(data)
        return data

    def save(self, data: Any) -> None:
        """Save to the wrapped dataset, then cache."""
        self._dataset.save(data)
        self._cache.save(data)

    def _exists(self) -> bool:
        return bool(self._cache.exists() or self._dataset.exists())

    # Async faces of the same logic, so an async wrapped dataset stays async.

    async def _aload(self) -> Any:
        if self._cache.exists():
            return self._cache.load()
        data = await _async.aload(self._dataset)
        self._cache.save(data)
        return data

    async def _asave(self, data: Any) -> None:
        await _async.asave(self._dataset, data)
        self._cache.save(data)

    async def _aexists(self) -> bool:
        return self._cache.exists() or await _async.aexists(self._dataset)

    def __getstate__(self) -> dict[str, Any]:
        _logger.warning("%s: clearing cache to pickle.", str(self))
        self._cache.release()
        return self.__dict__
