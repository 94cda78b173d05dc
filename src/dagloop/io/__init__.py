"""The data catalog and datasets: where node inputs come from and outputs go.

Kedro 1.1's ``kedro.io`` API, plus async faces (``aload``/``asave``/...) on every
dataset and on the catalog, and async I/O datasets for files and HTTP.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dagloop.io.cached_dataset import CachedDataset
from dagloop.io.catalog_config_resolver import CatalogConfigResolver
from dagloop.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    CatalogProtocol,
    DatasetAlreadyExistsError,
    DatasetError,
    DatasetNotFoundError,
    SharedMemoryCatalogProtocol,
    Version,
    VersionAlreadyExistsError,
    VersionNotFoundError,
)
from dagloop.io.data_catalog import DataCatalog, SharedMemoryDataCatalog
from dagloop.io.memory_dataset import MemoryDataset
from dagloop.io.shared_memory_dataset import SharedMemoryDataset

if TYPE_CHECKING:
    from dagloop.io.csv_dataset import CSVDataset
    from dagloop.io.http_dataset import HTTPDataset
    from dagloop.io.json_dataset import JSONDataset
    from dagloop.io.pickle_dataset import PickleDataset
    from dagloop.io.text_dataset import TextDataset

# The I/O datasets are imported on first use: their libraries (httpx, aiofiles)
# take longer to import than the rest of dagloop, and every worker process of a
# ParallelRunner imports dagloop.
_LAZY = {
    "CSVDataset": "dagloop.io.csv_dataset",
    "HTTPDataset": "dagloop.io.http_dataset",
    "JSONDataset": "dagloop.io.json_dataset",
    "PickleDataset": "dagloop.io.pickle_dataset",
    "TextDataset": "dagloop.io.text_dataset",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CSVDataset",
    "CachedDataset",
    "CatalogConfigResolver",
    "CatalogProtocol",
    "DataCatalog",
    "DatasetAlreadyExistsError",
    "DatasetError",
    "DatasetNotFoundError",
    "HTTPDataset",
    "JSONDataset",
    "MemoryDataset",
    "PickleDataset",
    "SharedMemoryCatalogProtocol",
    "SharedMemoryDataCatalog",
    "SharedMemoryDataset",
    "TextDataset",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]
