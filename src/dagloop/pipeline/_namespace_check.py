"""Warn when a namespace is interrupted by nodes from outside it.

A namespace is meant to be a contiguous piece of the graph (it is deployed or run as
one group). If data leaves namespace ``ns``, passes through nodes outside it and then
comes back into ``ns``, grouping by namespace would create a cycle between groups,
so the pipeline warns at construction.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from dagloop.pipeline._graph import children_of, shortest_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dagloop.pipeline.node import Node


def warn_on_interrupted_namespaces(
    nodes: Sequence[Node], order: Sequence[int], parents: Sequence[Sequence[int]]
) -> None:
    """Walk nodes in topological order and warn about each interruption found.

    For every node we carry the namespaces that some path into it has *left*, each
    with one node where the path left it. A node re-entering such a namespace from a
    parent outside it is an interruption.

    Args:
        nodes: The pipeline's nodes, indexed as in ``parents``.
        order: Node indices in topological order.
        parents: ``parents[i]`` holds the indices of the nodes ``i`` depends on.
    """
    left: dict[int, dict[str, int]] = {}
    children: list[list[int]] | None = None
    for index in order:
        node = nodes[index]
        current = node.namespace or ""
        prefixes = node.namespace_prefixes
        carried: dict[str, int] = {}
        for parent_index in sorted(parents[index], key=lambda i: nodes[i].name):
            parent = nodes[parent_index]
            parent_left = left[parent_index]
            interrupted = next((p for p in prefixes if p in parent_left), None)
            previous = parent.namespace or ""
            if interrupted and not f"{previous}.".startswith(f"{interrupted}."):
                children = children or children_of(parents)
                path = shortest_path(children, parent_left[interrupted], index)
                names = [nodes[i].name for i in path[:-1]]
                warnings.warn(
                    f"Namespace '{interrupted}' is interrupted by nodes {names} "
                    f"and thus invalid.",
                    UserWarning,
                    stacklevel=4,
                )
            for namespace, where in parent_left.items():
                carried.setdefault(namespace, where)
            if (
                previous
                and current != previous
                and not current.startswith(f"{previous}.")
            ):
                for prefix in parent.namespace_prefixes:
                    if not current.startswith(prefix):
                        carried.setdefault(prefix, index)
        left[index] = carried
