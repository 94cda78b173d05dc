"""Each public (sub)package declares a sorted ``__all__`` that matches its exports."""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC_MODULES = [
    "dagloop",
    "dagloop.framework.hooks",
    "dagloop.framework.hooks.manager",
    "dagloop.framework.hooks.markers",
    "dagloop.framework.hooks.specs",
    "dagloop.io",
    "dagloop.io.cached_dataset",
    "dagloop.io.catalog_config_resolver",
    "dagloop.io.core",
    "dagloop.io.csv_dataset",
    "dagloop.io.data_catalog",
    "dagloop.io.http_dataset",
    "dagloop.io.json",
    "dagloop.io.json_dataset",
    "dagloop.io.memory_dataset",
    "dagloop.io.pandas",
    "dagloop.io.pickle",
    "dagloop.io.pickle_dataset",
    "dagloop.io.shared_memory_dataset",
    "dagloop.io.text",
    "dagloop.io.text_dataset",
    "dagloop.pipeline",
    "dagloop.pipeline.node",
    "dagloop.pipeline.pipeline",
    "dagloop.pipeline.transcoding",
    "dagloop.runner",
    "dagloop.viz",
    "dagloop.runner.dask_runner",
    "dagloop.runner.parallel_runner",
    "dagloop.runner.runner",
    "dagloop.runner.sequential_runner",
    "dagloop.runner.task",
    "dagloop.runner.thread_runner",
    "dagloop.utils",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_unique_and_importable(module_name: str) -> None:
    """Order is ruff's job (RUF022 keeps every ``__all__`` sorted, isort-style)."""
    module = importlib.import_module(module_name)
    names = module.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_are_all_listed(module_name: str) -> None:
    """Every public class or function defined in the module is in ``__all__``."""
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and isinstance(value, type | types.FunctionType)
        and value.__module__ == module_name
    }
    assert public <= set(module.__all__)


def test_kedro_names_are_available() -> None:
    """The names a Kedro user imports exist under the same paths in dagloop."""
    from dagloop import KedroDeprecationWarning, KedroPythonVersionWarning
    from dagloop.pipeline import GroupedNodes, Node, Pipeline, node, pipeline
    from dagloop.pipeline.pipeline import (
        CircularDependencyError,
        ConfirmNotUniqueError,
        OutputNotUniqueError,
        PipelineError,
    )
    from dagloop.utils import load_obj

    assert issubclass(KedroDeprecationWarning, DeprecationWarning)
    assert issubclass(KedroPythonVersionWarning, UserWarning)
    for cls in (CircularDependencyError, ConfirmNotUniqueError, OutputNotUniqueError):
        assert issubclass(cls, Exception)
        assert cls.__module__ == "dagloop.pipeline.pipeline"
    assert issubclass(PipelineError, Exception)
    assert callable(node)
    assert callable(pipeline)
    assert callable(load_obj)
    assert isinstance(Node, type)
    assert isinstance(Pipeline, type)
    assert GroupedNodes("a", "nodes") == GroupedNodes("a", "nodes", [], [])


def test_importing_dagloop_imports_no_optional_dependency():
    # Optional extras stay optional: nothing of them is imported by dagloop's
    # own packages (design rule for progress bars, tracing, Dask, the CLI,
    # and Kedro itself, which only loads dagloop as its plugin).
    import subprocess
    import sys

    optional = ["rich", "distributed", "dask", "opentelemetry", "typer", "click"]
    optional += ["kedro", "kedro_datasets", "fsspec", "s3fs", "omegaconf", "yaml"]
    code = (
        "import sys, dagloop, dagloop.io, dagloop.pipeline, dagloop.runner\n"
        f"print([m for m in {optional!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
