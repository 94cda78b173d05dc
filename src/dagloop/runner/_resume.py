"""Planning helpers: where to resume a failed run, and what an incremental run skips.

These are re-exported from ``dagloop.runner.runner`` under Kedro's names.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from dagloop.pipeline import Pipeline

if TYPE_CHECKING:
    import logging
    from collections.abc import Collection, Iterable

    from dagloop.pipeline.node import Node

# ------------------------------------------------------------------- resuming


def _find_nodes_to_resume_from(
    pipeline: Pipeline, unfinished_nodes: Collection[Node], catalog: Any
) -> set[str]:
    """Names of the nodes to pass to ``--from-nodes`` to finish a failed run.

    Starting from the unfinished nodes, walk back through inputs that were not
    persisted (memory datasets, or names missing from the catalog) to the nodes
    that must run again to recreate them; the answer is the first layer of that set.
    """
    nodes_to_run = _find_all_nodes_for_resumed_pipeline(
        pipeline, unfinished_nodes, catalog
    )
    return {n.name for n in _find_initial_node_group(pipeline, nodes_to_run)}


def _find_all_nodes_for_resumed_pipeline(
    pipeline: Pipeline, unfinished_nodes: Iterable[Node], catalog: Any
) -> set[Node]:
    """Every node a resumed run must execute."""
    to_run = set(unfinished_nodes)
    start = _nodes_with_external_inputs(to_run)
    queue, seen = deque(start), set(start)
    while queue:
        current = queue.popleft()
        to_run.add(current)
        for producer in _enumerate_nodes_with_outputs(
            pipeline, _enumerate_non_persistent_inputs(current, catalog)
        ):
            if producer not in seen:
                seen.add(producer)
                queue.append(producer)
    return set(pipeline.from_nodes(*(n.name for n in to_run)).nodes)


def _nodes_with_external_inputs(nodes_of_interest: Iterable[Node]) -> set[Node]:
    """Nodes reading a free input of the sub-pipeline ``nodes_of_interest`` form."""
    sub = Pipeline(nodes_of_interest)
    return set(sub.only_nodes_with_inputs(*sub.inputs()).nodes)


def _enumerate_non_persistent_inputs(node: Node, catalog: Any) -> set[str]:
    """Inputs of ``node`` that would not survive the run (parameters excluded)."""
    datasets = catalog._datasets
    return {
        name
        for name in node.inputs
        if not name.startswith("params:")
        and (name not in datasets or getattr(datasets[name], "_EPHEMERAL", False))
    }


def _enumerate_nodes_with_outputs(
    pipeline: Pipeline, outputs: Collection[str]
) -> list[Node]:
    """The nodes producing ``outputs``."""
    return pipeline.only_nodes_with_outputs(*outputs).nodes


def _find_initial_node_group(pipeline: Pipeline, nodes: Iterable[Node]) -> list[Node]:
    """The first topological layer of the sub-pipeline ``nodes`` form."""
    names = {n.name for n in nodes}
    if not names:
        return []
    return pipeline.only_nodes(*names).grouped_nodes[0]


# ------------------------------------------------------ only_missing_outputs


def _build_node_children_map(pipeline: Pipeline) -> dict[Node, set[Node]]:
    """Parent → children, linked by exact dataset names (transcoding not merged)."""
    children: dict[Node, set[Node]] = {n: set() for n in pipeline.nodes}
    producer = {output: n for n in pipeline.nodes for output in n.outputs}
    for n in pipeline.nodes:
        for name in n.inputs:
            if name in producer:
                children[producer[name]].add(n)
    return children


def _determine_nodes_to_run(
    sorted_nodes: list[Node],
    catalog: Any,
    node_children: dict[Node, set[Node]],
    logger: logging.Logger,
) -> set[Node]:
    """Walk nodes children-first and collect those that must run."""
    to_run: set[Node] = set()
    for node in sorted_nodes:
        if _should_node_run(node, catalog, to_run, node_children, logger):
            to_run.add(node)
    return to_run


def _should_node_run(
    node: Node,
    catalog: Any,
    nodes_to_run: set[Node],
    node_children: dict[Node, set[Node]],
    logger: logging.Logger,
) -> bool:
    """A node runs if it has no outputs, misses a persistent output, or feeds a
    running child something that will not exist otherwise."""
    if not node.outputs:
        logger.debug("Node '%s' must run: has no outputs", node.name)
        return True
    return _has_missing_persistent_outputs(
        node, catalog, logger
    ) or _outputs_needed_by_children(node, catalog, nodes_to_run, node_children, logger)


def _has_missing_persistent_outputs(
    node: Node, catalog: Any, logger: logging.Logger
) -> bool:
    for output in node.outputs:
        if _is_persistent_dataset_missing(output, catalog):
            logger.debug(
                "Node '%s' must run: has missing output '%s'", node.name, output
            )
            return True
    return False


def _outputs_needed_by_children(
    node: Node,
    catalog: Any,
    nodes_to_run: set[Node],
    node_children: dict[Node, set[Node]],
    logger: logging.Logger,
) -> bool:
    for child in node_children.get(node, set()) & nodes_to_run:
        for dataset in set(node.outputs) & set(child.inputs):
            if _is_dataset_ephemeral_or_missing(dataset, catalog):
                logger.debug(
                    "Node '%s' must run: produces '%s' needed by running child '%s'",
                    node.name,
                    dataset,
                    child.name,
                )
                return True
    return False


def _is_persistent_dataset_missing(dataset_name: str, catalog: Any) -> bool:
    """Declared, persistent and absent. Undeclared names are future memory datasets."""
    if dataset_name not in catalog:
        return False
    if getattr(catalog.get(dataset_name), "_EPHEMERAL", False):
        return False
    return not catalog.exists(dataset_name)


def _is_dataset_ephemeral_or_missing(dataset_name: str, catalog: Any) -> bool:
    """Undeclared, in memory, or absent: a child cannot read it without its producer."""
    if dataset_name not in catalog:
        return True
    if getattr(catalog.get(dataset_name), "_EPHEMERAL", False):
        return True
    return not catalog.exists(dataset_name)
