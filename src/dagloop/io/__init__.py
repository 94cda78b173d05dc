"""The data catalog and datasets: where node inputs come from and outputs go.

Kedro 1.1's ``kedro.io`` API, plus async faces (``aload``/``asave``/...) on every
dataset and on the catalog, and async I/O datasets for files and HTTP.
"""

from __future__ import annotations

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

__all__ = [
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CachedDataset",
    "CatalogConfigResolver",
    "CatalogProtocol",
    "DataCatalog",
    "DatasetAlreadyExistsError",
    "DatasetError",
    "DatasetNotFoundError",
    "MemoryDataset",
    "SharedMemoryCatalogProtocol",
    "SharedMemoryDataCatalog",
    "SharedMemoryDataset",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]
