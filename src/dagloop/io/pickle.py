"""Kedro-style short name: ``type: pickle.PickleDataset`` in a catalog means dagloop's ``PickleDataset``.

Catalog types are looked up under ``dagloop.io.`` before ``kedro_datasets.``, so
configs written for kedro-datasets get dagloop's async dataset. Other
``pickle.*`` names fall through to kedro-datasets. This module is only found as
``dagloop.io.pickle``; it does not shadow a top-level ``pickle`` module.
"""

from __future__ import annotations

from dagloop.io.pickle_dataset import PickleDataset

__all__ = ["PickleDataset"]
