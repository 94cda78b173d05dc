"""Graph algorithms over node indices, all linear in the size of the graph.

A pipeline numbers its nodes ``0..n-1`` and stores ``parents[i]``, the indices of the
nodes ``i`` reads from. Working on integers keeps these loops free of the cost of
hashing :class:`Node` objects, which matters for pipelines of 10,000+ nodes.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def children_of(parents: Sequence[Sequence[int]]) -> list[list[int]]:
    """Invert ``parents`` into ``children`` (each list in ascending index order)."""
    children: list[list[int]] = [[] for _ in parents]
    for child, its_parents in enumerate(parents):
        for parent in its_parents:
            children[parent].append(child)
    return children


def layers(
    parents: Sequence[Sequence[int]], names: Sequence[str]
) -> tuple[list[list[int]], list[int]]:
    """Group nodes by the length of their longest path from a root (Kahn's method).

    Returns:
        The layers, each sorted by node name, and the nodes that could not be
        layered because they sit on or behind a cycle (empty for a DAG).
    """
    children = children_of(parents)
    waiting = [len(ps) for ps in parents]
    current = sorted(
        (i for i, count in enumerate(waiting) if count == 0), key=names.__getitem__
    )
    result: list[list[int]] = []
    placed = 0
    while current:
        result.append(current)
        placed += len(current)
        ready: list[int] = []
        for node in current:
            for child in children[node]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        ready.sort(key=names.__getitem__)
        current = ready
    if placed == len(parents):
        return result, []
    return result, [i for i, count in enumerate(waiting) if count > 0]


def find_cycle(parents: Sequence[Sequence[int]], stuck: list[int]) -> list[int]:
    """Return the nodes of one cycle among ``stuck`` (nodes Kahn could not place).

    Every stuck node has a stuck parent, so walking parents from any of them must
    come back to a node already on the walk.
    """
    stuck_set = set(stuck)
    walk: list[int] = []
    position: dict[int, int] = {}
    node = stuck[0]
    while node not in position:
        position[node] = len(walk)
        walk.append(node)
        node = min(p for p in parents[node] if p in stuck_set)
    cycle = walk[position[node] :]
    cycle.reverse()  # parents first, in the order data flows
    return cycle


def shortest_path(children: Sequence[Sequence[int]], start: int, end: int) -> list[int]:
    """Breadth-first shortest path from ``start`` to ``end`` (both included)."""
    previous: dict[int, int] = {start: start}
    queue = deque([start])
    while queue and end not in previous:
        node = queue.popleft()
        for child in children[node]:
            if child not in previous:
                previous[child] = node
                queue.append(child)
    if end not in previous:
        return []
    path = [end]
    while path[-1] != start:
        path.append(previous[path[-1]])
    path.reverse()
    return path
