"""Small helpers shared across dagloop's subpackages."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["load_obj"]


def load_obj(obj_path: str, default_obj_path: str = "") -> Any:
    """Import and return the object a dotted path names.

    ``"pkg.mod.Name"`` imports ``pkg.mod`` and returns its ``Name``. A path with no
    dot is looked up in ``default_obj_path`` (a module path) instead.

    Args:
        obj_path: Dotted path of the object, e.g. ``"dagloop.io.MemoryDataset"``.
        default_obj_path: Module to search when ``obj_path`` holds no module part.

    Returns:
        The object.

    Raises:
        AttributeError: When the module does not define the object.
        ModuleNotFoundError: When the module cannot be imported.
    """
    module_path, _, obj_name = obj_path.rpartition(".")
    module_path = module_path or default_obj_path
    module = importlib.import_module(module_path)
    if not hasattr(module, obj_name):
        raise AttributeError(
            f"Object '{obj_name}' cannot be loaded from '{module_path}'."
        )
    return getattr(module, obj_name)
