"""Kedro-style short name: ``type: text.TextDataset`` in a catalog means dagloop's ``TextDataset``.

Catalog types are looked up under ``dagloop.io.`` before ``kedro_datasets.``, so
configs written for kedro-datasets get dagloop's async dataset. Other
``text.*`` names fall through to kedro-datasets. This module is only found as
``dagloop.io.text``; it does not shadow a top-level ``text`` module.
"""

from __future__ import annotations

from dagloop.io.text_dataset import TextDataset

__all__ = ["TextDataset"]
