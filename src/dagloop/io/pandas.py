"""Kedro-style short name: ``type: pandas.CSVDataset`` in a catalog means dagloop's ``CSVDataset``.

Catalog types are looked up under ``dagloop.io.`` before ``kedro_datasets.``, so
configs written for kedro-datasets get dagloop's async dataset. Other
``pandas.*`` names fall through to kedro-datasets. This module is only found as
``dagloop.io.pandas``; it does not shadow a top-level ``pandas`` module.
"""

from __future__ import annotations

from dagloop.io.csv_dataset import CSVDataset

__all__ = ["CSVDataset"]
