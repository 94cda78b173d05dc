"""Node functions for the pictures' runs; importable, for the worker processes."""

from __future__ import annotations

import time
from typing import Any


def pause(x: Any) -> Any:
    """Take 30 ms, so that bars have a width and threads overlap."""
    time.sleep(0.03)
    return x


async def fetch(x: Any) -> Any:
    import anyio

    await anyio.sleep(0.02)
    return x


def combine(*values: Any) -> int:
    return len(values)


def broken(x: Any) -> Any:
    raise ValueError("the report cannot be built")


class Flaky:
    """Fails on its first call, then passes ``x`` on (kept in the parent: thread)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("service busy")
        return x
