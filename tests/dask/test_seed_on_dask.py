"""The seed guide's pipelines (examples/seed) on DaskRunner give what
SequentialRunner gives.

Each script builds its pipelines and catalogs with ``create_*`` functions; here
each pair runs on both runners, from fresh catalogs, and the free outputs are
compared. The scripts' folder is put on the path of this process and of the
Dask workers, as a project's code would be installed on a real cluster's: the
workers import the scripts' functions and classes by name.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dagloop.runner import DaskRunner, SequentialRunner

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed"

#: (script, pipeline factory, catalog factory, what the catalog factory takes)
CASES = [
    ("best_practices", "create_pipeline", "create_catalog", "workdir"),
    ("how_it_works", "create_pipeline", "create_catalog", None),
    ("incremental", "create_pipeline", "create_catalog", "workdir"),
    ("parallel", "create_cpu_pipeline", "create_cpu_catalog", None),
    ("patterns", "create_pipeline", "create_catalog", 2_000),
    ("sequential", "create_pipeline", "create_catalog", None),
    ("thread_io", "create_usage_pipeline", "create_usage_catalog", None),
]


def load(script: str, client: Any) -> ModuleType:
    if str(SEED) not in sys.path:
        sys.path.insert(0, str(SEED))
    client.run(_on_path, str(SEED))
    return importlib.import_module(script)


def _on_path(folder: str) -> None:
    """On a worker: make ``folder``'s modules importable."""
    if folder not in sys.path:
        sys.path.insert(0, folder)


def same(a: Any, b: Any) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dev dependency
        pd = None
    if pd is not None and isinstance(a, pd.DataFrame | pd.Series):
        return bool(a.equals(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(
            same(a[k], b[k]) for k in a if not _volatile(k)
        )
    return bool(a == b)


#: What a run records about itself rather than computes: where and when.
_VOLATILE = ("pid", "start", "end", "time", "thread", "worker", "elapsed", "duration")


def _volatile(key: Any) -> bool:
    """Whether a result's ``key`` names where or when something ran (a pid, a
    timestamp), which differs between runners by design."""
    if not isinstance(key, str):
        return False
    parts = key.lower().split("_")
    return key.lower().endswith("_at") or any(p in _VOLATILE for p in parts)


@pytest.mark.parametrize(("script", "make_pipeline", "make_catalog", "arg"), CASES)
def test_seed_pipeline_on_dask(
    local_client, tmp_path, script, make_pipeline, make_catalog, arg
):
    module = load(script, local_client)
    pipeline = getattr(module, make_pipeline)()
    catalog_factory: Callable[..., Any] = getattr(module, make_catalog)

    def catalog(where: str) -> Any:
        if arg == "workdir":
            folder = tmp_path / where
            folder.mkdir()
            return catalog_factory(folder)
        return catalog_factory() if arg is None else catalog_factory(arg)

    reference = SequentialRunner().run(pipeline, catalog("sequential"))
    outputs = DaskRunner(client=local_client).run(pipeline, catalog("dask"))
    assert set(outputs) == set(reference)
    for name, dataset in reference.items():
        assert same(outputs[name].load(), dataset.load()), name
