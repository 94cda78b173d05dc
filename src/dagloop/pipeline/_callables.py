"""What kind of callable a node wraps: seen through ``functools.partial``."""

from __future__ import annotations

import inspect
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


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
    return _is_kind(func, inspect.iscoroutinefunction)


def is_async_gen_callable(func: Any) -> bool:
    """Whether calling ``func`` returns an async generator (seen the same way)."""
    return _is_kind(func, inspect.isasyncgenfunction)


def _is_kind(func: Any, test: Callable[[Any], bool]) -> bool:
    func = unwrap_partial(func)
    if test(func):
        return True
    if inspect.isfunction(func) or inspect.ismethod(func):
        return False  # a plain (or bound) function of another kind
    return test(inspect.getattr_static(type(func), "__call__", None))
