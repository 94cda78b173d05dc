"""``PickleDataset``: any picklable Python object in a local file."""

from __future__ import annotations

import pickle
from functools import partial
from typing import Any, ClassVar

from dagloop.io._files import _AsyncFileDataset, offload

__all__ = ["PickleDataset"]


class PickleDataset(_AsyncFileDataset[Any, Any]):
    """A local pickle file (standard library :mod:`pickle`), with atomic saves.

    ``load_args`` go to :func:`pickle.loads` (``encoding``, ``fix_imports``, ...),
    ``save_args`` to :func:`pickle.dumps` (``protocol``, ...). Only load pickles
    you trust: unpickling can run arbitrary code. Other backends (joblib, dill,
    cloudpickle) are available through ``kedro_datasets.pickle.PickleDataset``.

    Example:
        >>> dataset = PickleDataset("data/06_models/model.pkl", save_args={"protocol": 5})
        >>> dataset.save(model)  # doctest: +SKIP
    """

    _KEDRO_TYPE: ClassVar[str] = "kedro_datasets.pickle.PickleDataset"

    async def _decode(self, payload: bytes) -> Any:
        return await offload(
            partial(pickle.loads, payload, **self._load_args), size=len(payload)
        )

    async def _encode(self, data: Any) -> bytes:
        return await offload(partial(pickle.dumps, data, **self._save_args))
