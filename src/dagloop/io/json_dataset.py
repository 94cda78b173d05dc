"""``JSONDataset``: a local JSON file, parsed into Python objects."""

from __future__ import annotations

import json
from functools import partial
from typing import Any, ClassVar

from dagloop.io._files import _AsyncFileDataset, offload

__all__ = ["JSONDataset"]


class JSONDataset(_AsyncFileDataset[Any, Any]):
    """A local JSON file, with async I/O and atomic saves.

    ``load_args`` go to :func:`json.loads`, ``save_args`` to :func:`json.dumps`.
    As in kedro-datasets, saves are indented by 2 spaces unless ``save_args`` say
    otherwise (``{"indent": None}`` for a single line). Files are written as
    UTF-8; loading also accepts UTF-16 and UTF-32, as :func:`json.loads` does.

    Example:
        >>> dataset = JSONDataset("data/01_raw/config.json")
        >>> dataset.save({"a": 1})  # doctest: +SKIP
        >>> dataset.load()  # doctest: +SKIP
        {'a': 1}
    """

    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"indent": 2}
    _KEDRO_TYPE: ClassVar[str] = "kedro_datasets.json.JSONDataset"

    async def _decode(self, payload: bytes) -> Any:
        return await offload(
            partial(json.loads, payload, **self._load_args), size=len(payload)
        )

    async def _encode(self, data: Any) -> bytes:
        return await offload(partial(_dumps, data, self._save_args))


def _dumps(data: Any, save_args: dict[str, Any]) -> bytes:
    return json.dumps(data, **save_args).encode("utf-8")
