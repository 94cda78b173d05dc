"""``PickleDataset``: any picklable Python object in a local file."""

from __future__ import annotations

import pickle
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from dagloop.io._files import _AsyncFileDataset, offload

if TYPE_CHECKING:
    import os

    from dagloop.io.core import Version

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

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Set up the dataset; nothing is read or written yet.

        Args:
            filepath: A local path or ``file://`` URL.
            load_args: Keyword arguments for :func:`pickle.loads`.
            save_args: Keyword arguments for :func:`pickle.dumps`.
            version: Load/save versions; ``None`` disables versioning.
            metadata: Free-form information about the dataset, kept as given.

        Raises:
            DatasetError: When ``filepath`` is not a local path.
        """
        super().__init__(filepath, load_args, save_args, version, metadata)

    async def _decode(self, payload: bytes) -> Any:
        return await offload(
            partial(pickle.loads, payload, **self._load_args), size=len(payload)
        )

    async def _encode(self, data: Any) -> bytes:
        return await offload(partial(pickle.dumps, data, **self._save_args))
