"""Project hooks that write down every call, for the test to read back.

Each call appends one JSON line to the file named by ``SPACEFLIGHTS_HOOKS_LOG``
(nothing is written when it is unset). A line is written with one ``write`` on a
file opened for appending, so lines from a runner's worker processes don't mix.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

if TYPE_CHECKING:
    from kedro.pipeline import Node


def _record(hook: str, **fields: Any) -> None:
    path = os.environ.get("SPACEFLIGHTS_HOOKS_LOG")
    if path:
        line = json.dumps({"hook": hook, "pid": os.getpid(), **fields}) + "\n"
        with open(path, "a", encoding="utf-8") as log:
            log.write(line)


def _node_fields(node: Node) -> dict[str, Any]:
    cls = type(node)
    return {"node": node.name, "node_class": f"{cls.__module__}.{cls.__qualname__}"}


class ProjectHooks:
    """Pipeline, node and dataset hooks, as a project would register in settings.py."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        _record("before_pipeline_run", run_id=run_params["session_id"])

    @hook_impl
    def before_node_run(self, node: Node, run_id: str) -> None:
        _record(
            "before_node_run",
            **_node_fields(node),
            run_id=run_id,
            coroutine_function=inspect.iscoroutinefunction(node.func),
        )

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any], run_id: str) -> None:
        output_types = {name: type(data).__name__ for name, data in outputs.items()}
        _record(
            "after_node_run",
            **_node_fields(node),
            run_id=run_id,
            output_types=output_types,
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        _record("after_dataset_saved", **_node_fields(node), dataset=dataset_name)
