"""OpenTelemetry (issue 10, section 6): spans per run, node and dataset I/O.

Each case runs in a child interpreter: a global tracer provider can be set only
once per process, and the rest of the suite must run without one. The child
sets the SDK's provider with an in-memory exporter (as an application would
set its own), runs pipelines, and prints the finished spans as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.runner._nodes import add_one, current_pid, fail, NodeFailure

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

def dump():
    spans = []
    for s in exporter.get_finished_spans():
        spans.append({
            "name": s.name,
            "id": s.context.span_id,
            "trace": s.context.trace_id,
            "parent": s.parent.span_id if s.parent else None,
            "attributes": dict(s.attributes),
            "status": s.status.status_code.name,
            "description": s.status.description,
            "start": s.start_time,
            "end": s.end_time,
            "events": [e.name for e in s.events],
        })
    print(json.dumps(spans))
"""


def spans_of(body: str) -> list[dict[str, Any]]:
    code = PRELUDE + textwrap.dedent(body) + "\ndump()\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    spans: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return spans


def by_name(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"] == name]


def test_a_run_node_and_dataset_spans_under_the_callers_span():
    spans = spans_of(
        """
        pipe = Pipeline([
            node(add_one, "a", "b", name="first"),
            node(current_pid, "b", "pid", name="in_process", executor="process"),
        ])
        with trace.get_tracer("app").start_as_current_span("request"):
            ThreadRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}), run_id="r1")
        """
    )
    request = by_name(spans, "request")[0]
    (run,) = by_name(spans, "dagloop.run")
    assert run["parent"] == request["id"]  # under the caller's span, same trace
    assert run["trace"] == request["trace"]
    assert run["attributes"] == {
        "dagloop.run_id": "r1",
        "dagloop.runner": "ThreadRunner",
        "dagloop.nodes": 2,
    }
    nodes = {s["attributes"]["dagloop.node"]: s for s in by_name(spans, "dagloop.node")}
    assert set(nodes) == {"first", "in_process"}
    assert all(s["parent"] == run["id"] for s in nodes.values())
    assert nodes["first"]["attributes"]["dagloop.placement"] == "thread"
    assert nodes["first"]["attributes"]["dagloop.worker"].startswith("dagloop-thread-")
    process = nodes["in_process"]["attributes"]
    assert process["dagloop.placement"] == "process"
    assert process["dagloop.worker"].isdigit()  # the worker's pid
    assert process["dagloop.attempt"] == 1
    loads = by_name(spans, "dagloop.load")
    saves = by_name(spans, "dagloop.save")
    assert {(s["attributes"]["dagloop.dataset"], s["parent"]) for s in loads} == {
        ("a", nodes["first"]["id"]),
        ("b", nodes["in_process"]["id"]),
    }
    assert {s["attributes"]["dagloop.dataset"] for s in saves} == {"b", "pid"}
    # Each span lies within its parent.
    for span in loads + saves:
        parent = next(s for s in spans if s["id"] == span["parent"])
        assert parent["start"] <= span["start"] <= span["end"] <= parent["end"]
    assert all(s["status"] == "UNSET" for s in spans)


def test_a_failure_marks_the_node_and_run_spans_as_errors():
    spans = spans_of(
        """
        calls = []
        def flaky(x):
            calls.append(x)
            if len(calls) == 1:
                raise ConnectionError("busy")
            return x
        pipe = Pipeline([
            node(flaky, "a", "b", name="flaky", retries=1),
            node(fail, "b", "c", name="broken"),
        ])
        try:
            SequentialRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}))
        except NodeFailure:
            pass
        """
    )
    (run,) = by_name(spans, "dagloop.run")
    assert run["status"] == "ERROR"
    nodes = {s["attributes"]["dagloop.node"]: s for s in by_name(spans, "dagloop.node")}
    assert nodes["broken"]["status"] == "ERROR"
    assert nodes["broken"]["description"].startswith("NodeFailure")
    assert "exception" in nodes["broken"]["events"]
    assert nodes["flaky"]["status"] == "UNSET"
    assert nodes["flaky"]["events"] == ["dagloop.retry"]
    assert nodes["flaky"]["attributes"]["dagloop.attempt"] == 2


def test_streamed_and_awaited_runs_are_traced_too():
    spans = spans_of(
        """
        import anyio
        pipe = Pipeline([node(add_one, "a", "b", name="one")])
        async def main():
            await ThreadRunner().arun(pipe, DataCatalog({"a": MemoryDataset(1)}))
            async with ThreadRunner().stream(pipe, DataCatalog({"a": MemoryDataset(1)})) as run:
                async for _ in run:
                    pass
        anyio.run(main)
        """
    )
    assert len(by_name(spans, "dagloop.run")) == 2
    assert len(by_name(spans, "dagloop.node")) == 2


def run_child(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_without_a_tracer_provider_a_run_is_not_observed():
    out = run_child(
        """
        from dagloop.runner import SequentialRunner
        print(SequentialRunner()._observers(None, False))
        """
    )
    assert out == "()"


def test_without_the_extra_nothing_of_opentelemetry_is_imported():
    out = run_child(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if not installed
        from dagloop.io import DataCatalog, MemoryDataset
        from dagloop.pipeline import Pipeline, node
        from dagloop.runner import SequentialRunner
        outputs = SequentialRunner().run(
            Pipeline([node(abs, "a", "b", name="n")]), DataCatalog({"a": MemoryDataset(-2)})
        )
        print(outputs["b"].load(), [m for m in sys.modules if m.startswith("opentelemetry.")])
        """
    )
    assert out == "2 []"
