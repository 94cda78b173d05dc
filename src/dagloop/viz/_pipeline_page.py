"""``pipeline_html``: a pipeline drawn in layers, on one self-contained page."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from dagloop.viz._graph import Vertex, graph, layout
from dagloop.viz._page import number, page, text

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline


def pipeline_html(pipeline: Pipeline, title: str = "Pipeline") -> str:
    """One HTML page drawing ``pipeline``: its nodes and datasets in layers,
    left to right, with the nodes' tags.

    Clicking a node shows its function, namespace, tags, inputs and outputs;
    clicking a dataset shows the nodes that make and use it; clicking a tag
    picks out its nodes. The page is self-contained: it needs no network access
    and opens from a file.

    Args:
        pipeline: The pipeline to draw.
        title: The page's title and heading.

    Returns:
        The page, as text (write it to a ``.html`` file).
    """
    g = layout(graph(pipeline))
    by_id = {v.id: v for v in g.vertices}
    parts = [
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{number(g.width)}"'
        f' height="{number(g.height)}" viewBox="0 0 {number(g.width)} {number(g.height)}"'
        ' role="img" aria-label="pipeline graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5"'
        ' markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
        '<g class="edges">',
    ]
    for a, b in g.edges:
        parts.append(_edge(by_id[a], by_id[b]))
    parts.append("</g>")
    parts.extend(_vertex(v) for v in g.vertices)
    parts.append("</svg>")
    nodes = [v for v in g.vertices if v.kind == "node"]
    tags = Counter(tag for v in nodes for tag in v.tags)
    chips = "".join(
        f'<button type="button" class="tag" data-tag="{text(tag)}">{text(tag)}'
        f" <small>{count}</small></button>"
        for tag, count in sorted(tags.items())
    )
    datasets = len(g.vertices) - len(nodes)
    body = (
        f"<header><h1>{text(title)}</h1>"
        f"<p>{len(nodes)} node{'s' * (len(nodes) != 1)}, {datasets} dataset"
        f"{'s' * (datasets != 1)}. Click a node or a dataset for its details, a tag"
        " for its nodes.</p>"
        f'<div id="tags">{chips}</div></header>'
        f'<main class="split"><div id="canvas">{"".join(parts)}</div>'
        '<aside id="details"><p class="hint">Nothing selected.</p></aside></main>'
    )
    data = {
        v.id: {
            "kind": v.kind,
            "name": v.name,
            "namespace": v.namespace,
            "tags": v.tags,
            "func": v.func,
            "inputs": v.inputs,
            "outputs": v.outputs,
        }
        for v in g.vertices
    }
    return page(title, body, "pipeline.js", data)


def _vertex(v: Vertex) -> str:
    rounded = v.height / 2 if v.kind != "node" else 4
    tags = ""
    if v.tags:
        shown = " · ".join(v.tags)
        tags = (
            f'<text class="tags" x="{number(v.x + v.width / 2)}" '
            f'y="{number(v.y + 37)}">{text(shown[:48])}</text>'
        )
    label_y = v.y + (19 if v.tags else v.height / 2 + 4)
    return (
        f'<g class="{v.kind if v.kind == "node" else "dataset " + v.kind}" id="{v.id}"'
        f' data-name="{text(v.name)}" data-tags="{text(" ".join(v.tags))}" tabindex="0">'
        f"<title>{text(v.name)}</title>"
        f'<rect x="{number(v.x)}" y="{number(v.y)}" width="{number(v.width)}"'
        f' height="{number(v.height)}" rx="{number(rounded)}"/>'
        f'<text x="{number(v.x + v.width / 2)}" y="{number(label_y)}">{text(v.label)}</text>'
        f"{tags}</g>"
    )


def _edge(a: Vertex, b: Vertex) -> str:
    x1, y1 = a.x + a.width, a.y + a.height / 2
    x2, y2 = b.x, b.y + b.height / 2
    bend = max(30.0, (x2 - x1) / 2)
    return (
        f'<path class="edge" data-from="{a.id}" data-to="{b.id}" marker-end="url(#arrow)"'
        f' d="M{number(x1)},{number(y1)} C{number(x1 + bend)},{number(y1)}'
        f' {number(x2 - bend)},{number(y2)} {number(x2)},{number(y2)}"/>'
    )
