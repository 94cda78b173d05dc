"""Fixtures shared by the ``dagloop.runner`` tests."""

from __future__ import annotations

import pytest


@pytest.fixture(
    params=[
        "asyncio",
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
        "trio",
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Every async test runs on asyncio, asyncio with uvloop, and trio."""
    return request.param
