"""``mermaid``: a pipeline as a Mermaid flowchart (GitHub, GitLab and most docs
tools draw these from a fenced ``mermaid`` block)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagloop.viz._graph import Vertex, graph

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline


def mermaid(pipeline: Pipeline, direction: str = "LR") -> str:
    """A Mermaid flowchart of ``pipeline``: nodes as boxes, datasets as rounded
    shapes (parameters apart), an arrow per input and output, and each
    namespace as a subgraph (nested namespaces nested).

    A dataset sits in the namespace its name starts with (``ns.data`` in
    ``ns``), as Kedro's namespaces name them; others sit at the top level.

    Args:
        pipeline: The pipeline to draw.
        direction: ``"LR"`` (left to right), ``"TB"`` (top to bottom), ``"RL"``
            or ``"BT"``.

    Returns:
        The flowchart's source, starting with ``flowchart <direction>``.

    Raises:
        ValueError: For another ``direction``.
    """
    if direction not in {"LR", "TB", "TD", "RL", "BT"}:
        raise ValueError(
            f"direction should be 'LR', 'TB', 'RL' or 'BT' (Mermaid's), got {direction!r}"
        )
    g = graph(pipeline)
    namespaces = sorted(
        {p for v in g.vertices if v.kind == "node" and v.namespace
         for p in _prefixes(v.namespace)}
    )  # fmt: skip
    members: dict[str | None, list[Vertex]] = {}
    for v in g.vertices:
        members.setdefault(_home(v, namespaces), []).append(v)
    lines = [f"flowchart {direction}"]
    lines += [f"    {_shape(v)}" for v in members.get(None, [])]
    for i, space in enumerate(namespaces):
        if "." not in space:  # an inner namespace is drawn inside its parent
            lines += _subgraph(space, namespaces, members, i, depth=1)
    lines += [f"    {a} --> {b}" for a, b in g.edges]
    lines += [
        "    classDef dlnode fill:#e7f0fd,stroke:#5b8def",
        "    classDef dldataset fill:#ffffff,stroke:#9fb3c8",
        "    classDef dlparameters fill:#fff9db,stroke:#e0b400",
    ]
    for kind in ("node", "dataset", "parameters"):
        ids = [v.id for v in g.vertices if v.kind == kind]
        if ids:
            lines.append(f"    class {','.join(ids)} dl{kind}")
    return "\n".join(lines) + "\n"


def _subgraph(
    space: str,
    namespaces: list[str],
    members: dict[str | None, list[Vertex]],
    index: int,
    depth: int,
) -> list[str]:
    pad = "    " * depth
    lines = [f'{pad}subgraph ns{index}["{_quoted(space)}"]']
    lines += [f"{pad}    {_shape(v)}" for v in members.get(space, [])]
    for j, inner in enumerate(namespaces):
        if inner.rsplit(".", 1)[0] == space and "." in inner:
            lines += _subgraph(inner, namespaces, members, j, depth + 1)
    lines.append(f"{pad}end")
    return lines


def _home(v: Vertex, namespaces: list[str]) -> str | None:
    """The namespace ``v`` is drawn in: a node's own; for a dataset, the
    deepest namespace its name starts with."""
    if v.kind == "node":
        return v.namespace
    homes = [space for space in namespaces if v.name.startswith(space + ".")]
    return max(homes, key=len) if homes else None


def _prefixes(namespace: str) -> list[str]:
    parts = namespace.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _shape(v: Vertex) -> str:
    label = _quoted(v.label)
    if v.kind == "node":
        return f'{v.id}["{label}"]'
    if v.kind == "parameters":
        return f'{v.id}[/"{label}"/]'
    return f'{v.id}(["{label}"])'


def _quoted(text: str) -> str:
    """``text`` inside a Mermaid ``"..."`` label: quotes and markup as entities."""
    return (
        text.replace("#", "#35;")
        .replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
    )
