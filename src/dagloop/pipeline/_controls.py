"""How a node runs, beyond what it computes: placement, timeout and retries.

These are dagloop's additions to Kedro's node; they are validated when the node
is created, so a typo fails at definition time rather than mid-run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

#: Where a sync node function may run.
Executor = Literal["inline", "thread", "process"]
EXECUTORS = ("inline", "thread", "process")


@dataclass(frozen=True)
class Controls:
    """A node's execution settings (all optional; the defaults change nothing)."""

    executor: Executor | None = None
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 0.0
    retry_backoff: float = 1.0

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        return self.retry_delay * self.retry_backoff ** (attempt - 2)


def make_controls(label: str, func: Any, **settings: Any) -> Controls:
    """Validate ``settings`` for node ``label`` and return them.

    Raises:
        ValueError: For an unknown executor or a negative/zero timeout, negative
            retries or delay, or a backoff below 1.
        TypeError: For an async generator function, which no runner can stream.
    """
    executor = settings["executor"]
    if executor is not None and executor not in EXECUTORS:
        raise ValueError(
            f"Invalid executor {executor!r} for node '{label}': use one of "
            f"{', '.join(repr(e) for e in EXECUTORS)}, or None to follow the runner."
        )
    timeout = settings["timeout"]
    if timeout is not None and not timeout > 0:
        raise ValueError(
            f"Invalid timeout {timeout!r} for node '{label}': use seconds > 0."
        )
    retries, delay, backoff = (
        settings["retries"],
        settings["retry_delay"],
        settings["retry_backoff"],
    )
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(
            f"Invalid retries {retries!r} for node '{label}': use an int >= 0."
        )
    if delay < 0:
        raise ValueError(
            f"Invalid retry_delay {delay!r} for node '{label}': use seconds >= 0."
        )
    if backoff < 1:
        raise ValueError(
            f"Invalid retry_backoff {backoff!r} for node '{label}': use a factor >= 1."
        )
    _reject_async_generator(func, label)
    return Controls(executor, timeout, retries, float(delay), float(backoff))


def _reject_async_generator(func: Any, label: str) -> None:
    while isinstance(func, partial):
        func = func.func
    if inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(
        inspect.getattr_static(type(func), "__call__", None)
    ):
        raise TypeError(
            f"Node '{label}' wraps an async generator function, which runners cannot "
            f"stream to datasets: collect the items and return them, or use a sync "
            f"generator (its items are saved one by one)."
        )
