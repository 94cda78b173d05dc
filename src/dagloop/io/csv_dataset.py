"""``CSVDataset``: a local CSV file as a pandas ``DataFrame``.

pandas is an optional dependency (``pip install 'dagloop[pandas]'``). It is
imported on the first load or save, in an I/O thread, never when this module is
imported or the dataset is created.
"""

from __future__ import annotations

import importlib
import io
from typing import TYPE_CHECKING, Any, ClassVar

from dagloop.io._async import in_io_thread
from dagloop.io._files import _AsyncFileDataset
from dagloop.io.core import DatasetError

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd


__all__ = ["CSVDataset"]

_INSTALL_HINT = (
    "CSVDataset needs pandas, which is not installed. "
    "Install it with: pip install 'dagloop[pandas]'"
)


class CSVDataset(_AsyncFileDataset["pd.DataFrame", "pd.DataFrame"]):
    """A local CSV file as a pandas ``DataFrame``, with async I/O and atomic saves.

    Behaves like ``kedro_datasets.pandas.CSVDataset`` for local files:
    ``load_args`` go to :func:`pandas.read_csv`, ``save_args`` to
    :meth:`pandas.DataFrame.to_csv` (default ``{"index": False}``). The file is
    read whole and parsed in an I/O thread, so the event loop never waits on
    pandas. Unless the args set ``compression``, it follows the file name, as
    pandas' ``"infer"`` does (``cars.csv.gz`` is gzipped on save and load).

    Example:
        >>> dataset = CSVDataset("data/01_raw/cars.csv", load_args={"sep": ","})
        >>> dataset.save(pd.DataFrame({"a": [1, 2]}))  # doctest: +SKIP
        >>> await dataset.aload()  # doctest: +SKIP
    """

    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"index": False}
    _KEDRO_TYPE: ClassVar[str] = "kedro_datasets.pandas.CSVDataset"

    async def _decode(self, payload: bytes) -> pd.DataFrame:
        pandas = await in_io_thread(_import_pandas)
        args = _with_compression(self._load_args, self._filepath.name)
        frame: pd.DataFrame = await in_io_thread(_read_csv, pandas, payload, args)
        return frame

    async def _encode(self, data: pd.DataFrame) -> bytes:
        await in_io_thread(_import_pandas)  # the same error as loading, if missing
        args = _with_compression(self._save_args, self._filepath.name)
        return await in_io_thread(_to_csv, data, args)


#: pandas' compression for each file name ending, longest first.
_COMPRESSIONS = (
    (".tar.gz", "tar"),
    (".tar.bz2", "tar"),
    (".tar.xz", "tar"),
    (".tar", "tar"),
    (".gz", "gzip"),
    (".bz2", "bz2"),
    (".zip", "zip"),
    (".xz", "xz"),
    (".zst", "zstd"),
)


def _with_compression(args: dict[str, Any], filename: str) -> dict[str, Any]:
    """``args`` with ``compression="infer"`` (or none) resolved from ``filename``.

    pandas can only infer compression from a path; these datasets hand it an
    in-memory buffer, so the inference happens here.
    """
    if args.get("compression", "infer") != "infer":
        return args
    lowered = filename.lower()
    found = next((kind for end, kind in _COMPRESSIONS if lowered.endswith(end)), None)
    return {**args, "compression": found}


def _import_pandas() -> ModuleType:
    """The pandas module (an import can take a while, so call it in a thread).

    Raises:
        DatasetError: When pandas is not installed, saying how to install it.
    """
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise DatasetError(_INSTALL_HINT) from exc


def _read_csv(pandas: ModuleType, payload: bytes, load_args: dict[str, Any]) -> Any:
    return pandas.read_csv(io.BytesIO(payload), **load_args)


def _to_csv(data: pd.DataFrame, save_args: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    data.to_csv(buffer, **save_args)
    return buffer.getvalue()
