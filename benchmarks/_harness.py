"""Timing helpers shared by the benchmark scenarios.

Engines are measured *interleaved* (dagloop, kedro, floor, dagloop, ...) so that a
machine that slows down mid-run penalises every engine alike; each figure is the
median of several repetitions, reported with its min and max.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@dataclass
class Measurement:
    """All repetitions of one (scenario, engine, metric)."""

    scenario: str
    engine: str
    metric: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median=self.median, min=min(self.values), max=max(self.values))
        return data


def timed(func: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """``(seconds, result)`` of ``func(*args)``, with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = func(*args)
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def write_report(results: list[Measurement], out_dir: Path, title: str) -> Path:
    """Write ``results.json`` and ``results.md`` (a table of medians); return the table path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    payload = {"machine": info, "results": [m.summary() for m in results]}
    (out_dir / "results.json").write_text(json.dumps(payload, indent=2))
    lines = [
        f"# {title}",
        "",
        f"Python {info['python']} on {info['platform']}, {info['cpu_count']} cores.",
        "",
        "| scenario | metric | engine | median | min | max | reps |",
        "|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {m.scenario} | {m.metric} | {m.engine} | {m.median:.4g} {m.unit} "
        f"| {min(m.values):.4g} | {max(m.values):.4g} | {len(m.values)} |"
        for m in results
    )
    path = out_dir / "results.md"
    path.write_text("\n".join(lines) + "\n")
    return path
