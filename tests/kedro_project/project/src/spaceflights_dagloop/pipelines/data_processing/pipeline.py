"""The data_processing pipeline: raw data in, ``model_input_table`` out."""

from __future__ import annotations

import asyncio
import functools
import os
from typing import TYPE_CHECKING, Any

from kedro.pipeline import Node, Pipeline

from .nodes import (
    create_model_input_table,
    enrich_companies,
    preprocess_companies,
    preprocess_shuttles,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine


def _runnable_by_kedro(func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable:
    """``func``, or a sync wrapper around it for the reference runs on Kedro's runners.

    Kedro 1.1's runners call a node's function and save what it returns: for an
    ``async def`` function that is an un-awaited coroutine object. dagloop's runners
    await it. The test's reference runs set ``SPACEFLIGHTS_WRAP_ASYNC_NODES=1`` so
    that Kedro runs the same function to completion with ``asyncio.run``.
    """
    if os.environ.get("SPACEFLIGHTS_WRAP_ASYNC_NODES") != "1":
        return func

    @functools.wraps(func)
    def run_to_completion(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(func(*args, **kwargs))

    return run_to_completion


def create_pipeline(**kwargs: Any) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=preprocess_companies,
                inputs="companies",
                outputs="preprocessed_companies",
                name="preprocess_companies_node",
            ),
            Node(
                func=preprocess_shuttles,
                inputs="shuttles",
                outputs="preprocessed_shuttles",
                name="preprocess_shuttles_node",
            ),
            Node(
                func=_runnable_by_kedro(enrich_companies),
                inputs=["preprocessed_companies", "params:company_regions"],
                outputs="enriched_companies",
                name="enrich_companies_node",
            ),
            Node(
                func=create_model_input_table,
                inputs=["preprocessed_shuttles", "enriched_companies", "reviews"],
                outputs="model_input_table",
                name="create_model_input_table_node",
            ),
        ]
    )
