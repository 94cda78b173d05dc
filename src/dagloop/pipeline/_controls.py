"""How a node runs, beyond what it computes: placement, timeout and retries.

These are dagloop's additions to Kedro's node; they are validated when the node
is created, so a typo fails at definition time rather than mid-run.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Literal

from dagloop.pipeline._callables import is_async_gen_callable, unwrap_partial

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
    #: For a streaming node: items each consumer may be behind (None: default).
    buffer: int | None = None
    #: A sync generator node whose items stream to its consumers as they come
    #: (an ``async def`` generator always streams).
    stream: bool = False

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
    if timeout is not None and not _seconds(timeout, allow_zero=False):
        raise ValueError(
            f"Invalid timeout {timeout!r} for node '{label}': use a number of seconds "
            f"> 0, or None for no limit."
        )
    retries, delay, backoff = (
        settings["retries"],
        settings["retry_delay"],
        settings["retry_backoff"],
    )
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(
            f"Invalid retries {retries!r} for node '{label}': use an int >= 0."
        )
    if not _seconds(delay, allow_zero=True):
        raise ValueError(
            f"Invalid retry_delay {delay!r} for node '{label}': use a number of seconds >= 0."
        )
    if not (_is_number(backoff) and backoff >= 1):
        raise ValueError(
            f"Invalid retry_backoff {backoff!r} for node '{label}': use a number >= 1 "
            f"(the factor the delay grows by after each retry)."
        )
    _check_stream(func, label, timeout, retries)
    stream = bool(settings.get("stream", False))
    streams = is_async_gen_callable(func) or stream
    if stream and not (is_async_gen_callable(func) or _is_generator(func)):
        raise ValueError(
            f"stream=True is for generator functions; node '{label}' returns "
            f"its result whole: drop it, or yield the items."
        )
    if stream:
        _check_stream(func, label, timeout, retries, force=True)
    buffer = settings.get("buffer")
    if buffer is not None:
        if not streams:
            raise ValueError(
                f"buffer= is for streaming nodes (async def generators, or "
                f"generators with stream=True); node '{label}' does not stream: "
                f"drop it."
            )
        if not _positive_int(buffer):
            raise ValueError(
                f"Invalid buffer {buffer!r} for node '{label}': use an int >= 1 "
                f"(items each consumer may be behind)."
            )
    return Controls(
        executor, timeout, retries, float(delay), float(backoff), buffer, stream
    )


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or infinity)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _positive_int(value: Any) -> bool:
    """An int > 0 (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _seconds(value: Any, *, allow_zero: bool) -> bool:
    """Whether ``value`` is a usable number of seconds."""
    return _is_number(value) and (value >= 0 if allow_zero else value > 0)


def _is_generator(func: Any) -> bool:
    return inspect.isgeneratorfunction(unwrap_partial(func))


def _check_stream(
    func: Any, label: str, timeout: Any, retries: Any, *, force: bool = False
) -> None:
    """A streaming node (an ``async def`` generator, or a generator with
    ``stream=True``) cannot be retried (its items are downstream already)
    nor timed out as one call.

    Raises:
        ValueError: Naming the node and the setting to drop.
    """
    if not (force or is_async_gen_callable(func)):
        return
    if retries:
        raise ValueError(
            f"Node '{label}' streams (a generator whose items go downstream): it cannot be "
            f"retried, since its items have gone downstream; drop retries= or "
            f"retry inside the function."
        )
    if timeout is not None:
        raise ValueError(
            f"Node '{label}' streams (a generator whose items go downstream): it has no "
            f"single call to time out; drop timeout= or bound each step inside "
            f"the function (anyio.fail_after)."
        )
