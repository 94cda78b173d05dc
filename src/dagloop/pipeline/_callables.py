"""What kind of callable a node wraps: seen through ``functools.partial``."""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any


def unwrap_partial(func: Any) -> Any:
    """The callable under any layers of ``functools.partial`` around ``func``."""
    while isinstance(func, partial):
        func = func.func
    return func


def is_async_callable(func: Any) -> bool:
    """Whether calling ``func`` returns a coroutine.

    Sees through ``functools.partial`` and callable objects with an async
    ``__call__`` (as Starlette's ``is_async_callable`` does).
    """
    func = unwrap_partial(func)
    if inspect.iscoroutinefunction(func):
        return True
    if inspect.isfunction(func) or inspect.ismethod(func):
        return False  # a plain (or bound) function that is not async
    call = inspect.getattr_static(type(func), "__call__", None)
    return inspect.iscoroutinefunction(call)
