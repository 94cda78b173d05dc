"""Pictures of a pipeline and of a run: ``dagloop.viz``.

A small job on every placement: ``async def`` fetches on the event loop, cleaning
in threads, a model trained in a worker process, a flaky report that succeeds on
its second attempt, a summary on the loop itself, and a namespaced scoring step.
It runs once on ``ThreadRunner`` with its events collected, then writes:

* ``pipeline.html``: the DAG in layers (click a node for its inputs and outputs);
* ``timeline.html``: where the run's time went, a lane per worker (hover a bar);
* ``timeline.svg``: the same chart, for a README or a report;
* ``pipeline.mmd``: the Mermaid flowchart (paste it into a ```` ```mermaid ````
  block on GitHub).

    python examples/pictures.py --out pictures/
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import anyio

from dagloop import viz
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import RunEvent, ThreadRunner


async def fetch(source: str) -> list[int]:
    """A slow API call."""
    await anyio.sleep(0.05)
    return [len(source), 2, 3]


def clean(rows: list[int]) -> list[int]:
    """Blocking work: a thread of its own."""
    time.sleep(0.08)
    return sorted(rows)


def train(rows: list[int]) -> int:
    """CPU work: a worker process."""
    return sum(i * i for i in range(400_000)) % 97 + len(rows)


class FlakyReport:
    """Fails once (a busy service), then reports."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, rows: list[int]) -> str:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("report service busy")
        time.sleep(0.03)
        return f"{len(rows)} rows"


def summarise(model: int, report: str, rows: list[int]) -> dict[str, Any]:
    return {"model": model, "report": report, "rows": len(rows)}


def score(summary: dict[str, Any]) -> float:
    time.sleep(0.04)
    return summary["model"] / 97


def build() -> Pipeline:
    sources = ["crm", "billing", "support"]
    steps = [
        node(fetch, f"params:{s}", f"raw_{s}", name=f"fetch_{s}", tags=["ingest"])
        for s in sources
    ]
    steps += [
        node(clean, f"raw_{s}", f"clean_{s}", name=f"clean_{s}", tags=["prep"])
        for s in sources
    ]
    steps += [
        node(
            train, "clean_crm", "model", name="train", executor="process", tags=["ml"]
        ),
        node(FlakyReport(), "clean_billing", "report", name="report", retries=2),
        node(
            summarise,
            ["model", "report", "clean_support"],
            "summary",
            name="summarise",
            executor="inline",
        ),
    ]
    scoring = pipeline(
        Pipeline([node(score, "summary", "score", name="score", tags=["ml"])]),
        namespace="scoring",
        inputs={"summary": "summary"},
    )
    return Pipeline(steps) + scoring


def main(out: Path) -> list[RunEvent]:
    pipe = build()
    catalog = DataCatalog(
        {f"params:{s}": MemoryDataset(s) for s in ("crm", "billing", "support")}
    )
    events: list[RunEvent] = []
    ThreadRunner().run(pipe, catalog, on_event=events.append)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipeline.html").write_text(viz.pipeline_html(pipe, title="An API job"))
    (out / "timeline.html").write_text(viz.timeline_html(events, title="One run of it"))
    (out / "timeline.svg").write_text(viz.timeline_svg(events))
    (out / "pipeline.mmd").write_text(viz.mermaid(pipe))
    for name in ("pipeline.html", "timeline.html", "timeline.svg", "pipeline.mmd"):
        print(f"wrote {out / name}")
    return events


if __name__ == "__main__":  # worker processes import this module: keep the guard
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("pictures"), help="folder")
    main(parser.parse_args().out)
