"""A pipeline as a drawable graph: its nodes and datasets, in layers.

Shared by :func:`~dagloop.viz.mermaid` (which lets Mermaid place things) and
:func:`~dagloop.viz.pipeline_html` (which places them itself, with
:func:`layout`). Transcoded names (``data@pandas``, ``data@spark``) are one
dataset in a picture, as they are one in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dagloop.pipeline.transcoding import _strip_transcoding

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline

#: Width of one character of a label, in pixels, at the pages' 12 px font.
CHAR_WIDTH = 7.0
#: Labels longer than this are cut (with an ellipsis) in the drawing; the full
#: name is in the details.
MAX_LABEL = 36
BOX_HEIGHT = 34
TAGGED_HEIGHT = 48
ROW_GAP = 18
COLUMN_GAP = 44
MARGIN = 20


@dataclass
class Vertex:
    """One node or dataset of the picture."""

    id: str
    kind: str  # "node", "dataset" or "parameters"
    name: str
    label: str
    namespace: str | None = None  # a node's (datasets: see mermaid's _home)
    tags: list[str] = field(default_factory=list)
    func: str | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Graph:
    """The vertices of a pipeline, and its edges as ``(from id, to id)``."""

    vertices: list[Vertex]
    edges: list[tuple[str, str]]
    width: float = 0.0
    height: float = 0.0


def graph(pipeline: Pipeline) -> Graph:
    """``pipeline``'s nodes and datasets, with their layer (a column, left to
    right): a node's layer follows its longest path from a root; a dataset sits
    just right of its producer, a free input just left of its first consumer."""
    vertices: dict[str, Vertex] = {}
    edges: list[tuple[str, str]] = []
    produced_in: dict[str, int] = {}
    for depth, layer in enumerate(pipeline.grouped_nodes):
        for n in layer:
            func = getattr(n.func, "__qualname__", None) or repr(n.func)
            vertex = Vertex(
                id=f"n{len(vertices)}",
                kind="node",
                name=n.name,
                label=_label(n.short_name if n.namespace else n.name),
                namespace=n.namespace,
                tags=sorted(n.tags),
                func=f"{getattr(n.func, '__module__', '?')}.{func}",
                inputs=list(n.inputs),
                outputs=list(n.outputs),
                layer=2 * depth + 1,
            )
            vertices[n.name] = vertex
            for name in n.outputs:
                produced_in[_strip_transcoding(name)] = vertex.layer + 1
    datasets: dict[str, Vertex] = {}
    for n in pipeline.nodes:
        node_id = vertices[n.name].id
        edges += [(_dataset(datasets, d, produced_in).id, node_id) for d in n.inputs]
        edges += [(node_id, _dataset(datasets, d, produced_in).id) for d in n.outputs]
    for n in pipeline.nodes:
        for name in n.inputs:
            data = datasets[_strip_transcoding(name)]
            data.outputs.append(n.name)  # consumers, for the details
            if _strip_transcoding(name) not in produced_in:
                # A free input: just left of its first consumer.
                first = vertices[n.name].layer - 1
                data.layer = first if data.layer == 0 else min(data.layer, first)
        for name in n.outputs:
            datasets[_strip_transcoding(name)].inputs.append(n.name)  # producers
    return Graph([*vertices.values(), *datasets.values()], edges)


def _dataset(
    datasets: dict[str, Vertex], name: str, produced_in: dict[str, int]
) -> Vertex:
    key = _strip_transcoding(name)
    if key not in datasets:
        params = key == "parameters" or key.startswith("params:")
        datasets[key] = Vertex(
            id=f"d{len(datasets)}",
            kind="parameters" if params else "dataset",
            name=key,
            label=_label(key),
            layer=produced_in.get(key, 0),
        )
    return datasets[key]


def _label(name: str) -> str:
    return (
        name
        if len(name) <= MAX_LABEL
        else name[: MAX_LABEL - 1] + "\N{HORIZONTAL ELLIPSIS}"
    )


def layout(g: Graph) -> Graph:
    """Give every vertex a position and size: columns by layer, rows ordered
    to keep edges short (two barycentre sweeps), columns as wide as their
    widest label. Returns ``g``, with its overall width and height set."""
    columns: dict[int, list[Vertex]] = {}
    for vertex in g.vertices:
        columns.setdefault(vertex.layer, []).append(vertex)
    by_id = {v.id: v for v in g.vertices}
    neighbours: dict[str, list[str]] = {v.id: [] for v in g.vertices}
    for a, b in g.edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    order = sorted(columns)
    rank = {v.id: i for col in columns.values() for i, v in enumerate(col)}

    def centre(v: Vertex) -> float:
        """The mean row of ``v``'s neighbours in other columns."""
        near = [rank[n] for n in neighbours[v.id] if by_id[n].layer != v.layer]
        return sum(near) / len(near) if near else rank[v.id]

    for sweep in (order, order[::-1], order):
        for layer in sweep:
            column = columns[layer]
            column.sort(key=centre)
            rank.update({v.id: i for i, v in enumerate(column)})
    x = float(MARGIN)
    height = 0.0
    for layer in order:
        column = columns[layer]
        width = max(len(v.label) for v in column) * CHAR_WIDTH + 24
        y = float(MARGIN)
        for v in column:
            v.width = width if v.kind == "node" else len(v.label) * CHAR_WIDTH + 24
            v.height = TAGGED_HEIGHT if v.tags else BOX_HEIGHT
            v.x = x + (width - v.width) / 2
            v.y = y
            y += v.height + ROW_GAP
        height = max(height, y)
        x += width + COLUMN_GAP
    g.width = x - COLUMN_GAP + MARGIN
    g.height = height - ROW_GAP + MARGIN
    return g
