"""Each public (sub)package declares a sorted ``__all__`` that matches its exports."""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC_MODULES = [
    "dagloop",
    "dagloop.pipeline",
    "dagloop.pipeline.node",
    "dagloop.pipeline.pipeline",
    "dagloop.pipeline.transcoding",
    "dagloop.utils",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = module.__all__
    assert names == sorted(names)
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
