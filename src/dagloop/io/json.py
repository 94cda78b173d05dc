"""Kedro-style short name: ``type: json.JSONDataset`` in a catalog means dagloop's ``JSONDataset``.

Catalog types are looked up under ``dagloop.io.`` before ``kedro_datasets.``, so
configs written for kedro-datasets get dagloop's async dataset. Other
``json.*`` names fall through to kedro-datasets. This module is only found as
``dagloop.io.json``; it does not shadow a top-level ``json`` module.
"""

from __future__ import annotations

from dagloop.io.json_dataset import JSONDataset

__all__ = ["JSONDataset"]
