"""Pipelines built with Kedro's own classes, run by dagloop's runners.

``kedro run --runner=dagloop.runner.ThreadRunner`` hands a runner a Kedro
``Pipeline`` of Kedro ``Node`` objects. The core runs dagloop nodes (their
placement, ``async def`` detection, controls), so each Kedro node is rebuilt as a
dagloop node from the same definition; hooks still receive the Kedro node, so a
project's hooks see exactly what Kedro's runners give them. Kedro is never
imported here: a foreign node is recognised by the definition it carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagloop.pipeline import Node, Pipeline

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["adopt"]

#: What a Kedro 1.x ``Node`` keeps of its definition (``Node._copy`` rebuilds
#: a node from exactly these). Anything else a ``Node`` subclass adds or
#: overrides (its own ``run``) is not carried over.
_DEFINITION = (
    "_func", "_inputs", "_outputs", "_name", "_tags", "_confirms", "_namespace",
)  # fmt: skip


def adopt(pipeline: Any) -> tuple[Pipeline, Mapping[Node, Any] | None]:
    """``pipeline`` as a dagloop ``Pipeline``, and what hooks should receive.

    Returns:
        The pipeline itself and ``None`` for a dagloop pipeline; for a Kedro
        one, an equal dagloop pipeline and ``{dagloop node: Kedro node}``.

    Raises:
        TypeError: For anything that is not a pipeline of either kind.
    """
    if isinstance(pipeline, Pipeline):
        return pipeline, None
    nodes = getattr(pipeline, "nodes", None)
    if nodes is None or isinstance(pipeline, Node):
        raise TypeError(
            f"pipeline should be a dagloop.pipeline.Pipeline (or a Kedro Pipeline), "
            f"got {type(pipeline).__name__}; build one with pipeline([node(...), ...])"
        )
    originals: dict[Node, Any] = {}
    for foreign in nodes:
        originals[_adopt_node(foreign)] = foreign
    return Pipeline(list(originals)), originals


def _adopt_node(foreign: Any) -> Node:
    if isinstance(foreign, Node):
        return foreign
    missing = [name for name in _DEFINITION if not hasattr(foreign, name)]
    if missing:
        raise TypeError(
            f"Cannot run node {foreign!r} of type {type(foreign).__name__}: it is "
            f"neither a dagloop nor a Kedro 1.x node (it lacks {', '.join(missing)})"
        )
    return Node(
        foreign._func,
        foreign._inputs,
        foreign._outputs,
        name=foreign._name,
        tags=foreign._tags,
        confirms=foreign._confirms,
        namespace=foreign._namespace,
    )
