"""``timeline_svg`` and ``timeline_html``: where a run's time went, from its events.

A Gantt chart: one lane per worker (the event loop, each thread, each worker
process), one bar per node from its ``node_started`` to its end, coloured by
placement; failures outlined in red and crossed, retries as white ticks where an
attempt failed, a node the run never finished dashed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dagloop._text import error_line
from dagloop.viz._page import number, page, text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dagloop.runner import RunEvent

LABEL_WIDTH = 190
PLOT_WIDTH = 860
AXIS_HEIGHT = 26
LANE_HEIGHT = 26
BAR_HEIGHT = 18
MARGIN = 10
#: The placements drawn in their own colour (any other: one shared colour).
COLOURED = ("async", "inline", "thread", "process")


@dataclass
class Bar:
    """One node's time in the run."""

    node: str
    placement: str | None
    lane: tuple[str, str]
    start: float
    end: float = math.nan
    status: str = "unfinished"  # "finished", "failed" or "unfinished"
    retries: list[float] = field(default_factory=list)
    error: str | None = None
    loaded: int = 0
    saved: int = 0

    def details(self) -> str:
        """What the bar's tooltip says."""
        lines = [
            self.node,
            f"{self.status}, {self.placement or '?'} on {self.lane[1]}",
            f"from {self.start:.3f} s to {self.end:.3f} s ({self.end - self.start:.3f} s)",
            f"{self.loaded} input{'s' * (self.loaded != 1)} loaded, "
            f"{self.saved} output{'s' * (self.saved != 1)} saved",
        ]
        if self.retries:
            lines.append(f"{len(self.retries) + 1} attempts")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


@dataclass
class Timeline:
    """A run's bars, lanes and length, read from its events."""

    run_id: str
    bars: list[Bar]
    lanes: list[tuple[str, str]]
    length: float
    failed: bool

    def most_at_once(self) -> int:
        """The most nodes running at the same time."""
        edges = sorted(
            [(b.start, 1) for b in self.bars] + [(b.end, -1) for b in self.bars],
            key=lambda edge: (edge[0], edge[1]),  # an end before a start at one time
        )
        running = most = 0
        for _, step in edges:
            running += step
            most = max(most, running)
        return most


def read(events: Iterable[RunEvent]) -> Timeline:
    """The timeline of the one run ``events`` come from.

    Raises:
        ValueError: For events of several runs, or none.
    """
    events = list(events)
    runs = sorted({e.run_id for e in events})
    if len(runs) != 1:
        raise ValueError(
            "A timeline shows one run: pass one run's events (for instance "
            "[e for e in events if e.run_id == run_id]); got "
            + (f"events of {len(runs)} runs: {runs[:3]}" if runs else "no events")
        )
    open_bars: dict[str, Bar] = {}
    bars: list[Bar] = []
    lanes: dict[tuple[str, str], None] = {}
    length = 0.0
    failed = False
    for e in events:
        length = max(length, e.at)
        if e.kind == "node_started" and e.node is not None:
            bar = Bar(e.node, e.placement, _lane(e.placement, e.worker), e.at)
            open_bars[e.node] = bar
            bars.append(bar)
        elif e.kind in ("node_finished", "node_failed") and e.node in open_bars:
            bar = open_bars.pop(e.node)
            bar.end = e.at
            bar.status = "finished" if e.kind == "node_finished" else "failed"
            bar.lane = _lane(e.placement, e.worker)  # known once it has run
            if e.error is not None:
                bar.error = error_line(e.error)
        elif e.kind == "node_retrying" and e.node in open_bars:
            open_bars[e.node].retries.append(e.at)
        elif e.kind == "dataset_loaded" and e.node in open_bars:
            open_bars[e.node].loaded += 1
        elif e.kind == "dataset_saved" and e.node in open_bars:
            open_bars[e.node].saved += 1
        elif e.kind == "run_failed":
            failed = True
    for bar in bars:
        if math.isnan(bar.end):
            bar.end = length  # the run ended (or the events stop) before the node
    for bar in sorted(bars, key=lambda b: (_LANE_ORDER[b.lane[0]], b.start)):
        lanes.setdefault(bar.lane, None)
    return Timeline(runs[0], bars, list(lanes), length, failed)


_LANE_ORDER = {"loop": 0, "thread": 1, "process": 2, "other": 3}


def _lane(placement: str | None, worker: str | int | None) -> tuple[str, str]:
    """``(kind, label)`` of the lane a node ran in."""
    if placement in ("async", "inline"):
        return "loop", f"event loop ({worker})" if worker else "event loop"
    if placement == "thread":
        return "thread", str(worker) if worker else "a thread"
    if placement == "process":
        return "process", f"process {worker}" if worker else "process ?"
    return "other", f"{placement or '?'} {worker or ''}".strip()


def _ticks(length: float) -> tuple[float, list[float]]:
    """A round step giving five to ten ticks over ``length`` seconds, and the ticks."""
    raw = max(length, 1e-6) / 8
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = int(length / step + 1e-9) + 1
    return step, [i * step for i in range(count + 1)]


def _seconds(value: float, step: float) -> str:
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{digits}f} s"


def svg(timeline: Timeline) -> str:
    """The chart as one ``<svg>`` element (tooltips as ``<title>``)."""
    lane_index = {lane: i for i, lane in enumerate(timeline.lanes)}
    length = max(timeline.length, 1e-6)
    step, ticks = _ticks(length)
    span = max(ticks[-1], length)
    scale = PLOT_WIDTH / span
    width = LABEL_WIDTH + PLOT_WIDTH + 2 * MARGIN + 20  # room for the last tick
    height = AXIS_HEIGHT + LANE_HEIGHT * max(len(timeline.lanes), 1) + 2 * MARGIN
    left, top = MARGIN + LABEL_WIDTH, MARGIN + AXIS_HEIGHT
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="timeline of run {text(timeline.run_id)}">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        _style(),
        '<g class="axis">',
    ]
    for tick in ticks:
        x = left + tick * scale
        parts.append(
            f'<line class="grid" x1="{number(x)}" y1="{top - 4}" x2="{number(x)}"'
            f' y2="{height - MARGIN}"/>'
            f'<text x="{number(x)}" y="{top - 9}">{_seconds(tick, step)}</text>'
        )
    parts.append("</g>")
    for lane, i in lane_index.items():
        baseline = top + i * LANE_HEIGHT + LANE_HEIGHT / 2 + 4
        parts.append(
            f'<text class="lane-label" x="{MARGIN}" y="{number(baseline)}">'
            f"{text(lane[1][:30])}</text>"
        )
    for index, bar in enumerate(timeline.bars):
        y = top + lane_index[bar.lane] * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2
        x = left + bar.start * scale
        w = max((bar.end - bar.start) * scale, 1.5)
        colour = bar.placement if bar.placement in COLOURED else "other"
        parts.append(
            f'<g class="task" data-index="{index}" data-node="{text(bar.node)}">'
            f"<title>{text(bar.details())}</title>"
            f'<rect class="bar {colour} {bar.status}" x="{number(x)}" y="{number(y)}"'
            f' width="{number(w)}" height="{BAR_HEIGHT}" rx="2"/>'
        )
        for at in bar.retries:
            rx = left + at * scale
            parts.append(
                f'<line class="retry" x1="{number(rx)}" y1="{number(y + 2)}"'
                f' x2="{number(rx)}" y2="{number(y + BAR_HEIGHT - 2)}"/>'
            )
        if bar.status == "failed":
            cx, cy = x + w, y + BAR_HEIGHT / 2
            parts.append(
                f'<path class="fail-mark" d="M{number(cx - 5)},{number(cy - 5)}'
                f' l10,10 M{number(cx + 5)},{number(cy - 5)} l-10,10"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _style() -> str:
    """The chart's own colours, so that the SVG alone (in a report, a README)
    looks as it does in the page."""
    rules = (
        "text{font:12px system-ui,'DejaVu Sans',sans-serif;fill:#1f2933;text-anchor:middle}"
        ".lane-label{text-anchor:start}.axis text{fill:#627d98;font-size:11px}"
        ".grid{stroke:#e4e7eb}.bar{stroke:rgba(0,0,0,.25);stroke-width:.6}"
        ".bar.async{fill:#4c6ef5}.bar.inline{fill:#868e96}.bar.thread{fill:#2b9348}"
        ".bar.process{fill:#e8590c}.bar.other{fill:#ae3ec9}"
        ".bar.failed{stroke:#e03131;stroke-width:2.2}"
        ".bar.unfinished{fill-opacity:.45;stroke-dasharray:3 2}"
        ".retry{stroke:#fff;stroke-width:2}.fail-mark{stroke:#e03131;stroke-width:2.2}"
    )
    return f"<style>{rules}</style>"


def summary(timeline: Timeline) -> str:
    """One sentence: how many nodes, how long, on how many workers, how parallel."""
    nodes = len(timeline.bars)
    lanes = len(timeline.lanes)
    ended = "failed after" if timeline.failed else "took"
    return (
        f"Run {timeline.run_id} {ended} {timeline.length:.3f} s: {nodes} node"
        f"{'s' * (nodes != 1)} on {lanes} worker{'s' * (lanes != 1)}, at most "
        f"{timeline.most_at_once()} at once."
    )


def timeline_svg(events: Iterable[RunEvent]) -> str:
    """A Gantt chart of one run, as a standalone SVG document, for docs and
    reports: one lane per worker (the event loop, each thread, each worker
    process), a bar per node coloured by placement, failures and retries
    marked, details in each bar's tooltip.

    Args:
        events: The run's :class:`~dagloop.runner.RunEvent` s, as
            ``on_event=events.append`` or ``runner.stream()`` collect them.

    Returns:
        The SVG, as text (write it to a ``.svg`` file).

    Raises:
        ValueError: For events of several runs, or none.
    """
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg(read(events)) + "\n"


def timeline_html(events: Iterable[RunEvent], title: str = "Run timeline") -> str:
    """The chart of :func:`timeline_svg` on one self-contained page (no network
    access needed), with a legend, a summary (length, workers, most nodes at
    once) and each node's details on hover.

    Args:
        events: The run's :class:`~dagloop.runner.RunEvent` s.
        title: The page's title and heading.

    Returns:
        The page, as text (write it to a ``.html`` file).

    Raises:
        ValueError: For events of several runs, or none.
    """
    timeline = read(events)
    legend = "".join(
        f'<span style="--swatch: var(--{kind})">{kind}</span>'
        for kind in (*COLOURED, "other")
        if any((b.placement if b.placement in COLOURED else "other") == kind
               for b in timeline.bars)
    )  # fmt: skip
    body = (
        f"<header><h1>{text(title)}</h1><p>{text(summary(timeline))}</p>"
        f'<div class="legend">{legend}<span class="failed-key">failed</span></div>'
        "</header>"
        f'<main id="canvas">{svg(timeline)}</main><div id="tip"></div>'
    )
    data = [bar.details() for bar in timeline.bars]
    return page(title, body, "timeline.js", data)
