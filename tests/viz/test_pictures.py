"""dagloop.viz (issue 10, section 4): the Mermaid source, and the two pages,
opened in a real headless Chromium: no console error, no request beyond the
file itself, one element per node, and what a click or a hover shows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from dagloop import viz
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import RunEvent, ThreadRunner
from tests.viz._nodes import Flaky, broken, combine, fetch, pause


def example() -> Pipeline:
    """Tags, parameters, a transcoded dataset, and a namespace inside a namespace."""
    base = Pipeline(
        [
            node(pause, "params:source", "raw@pandas", name="load", tags=["ingest"]),
            node(pause, "raw@spark", "clean", name="clean", tags=["prep", "daily"]),
            node(combine, ["clean", "raw@pandas"], "report", name="report"),
        ]
    )
    inner = pipeline(
        Pipeline([node(pause, "x", "y", name="score", tags=["ml"])]),
        namespace="models.linear",
        inputs={"x": "report"},
    )
    return base + inner


# ------------------------------------------------------------------- mermaid


def test_mermaid_draws_every_node_dataset_and_edge():
    pipe = example()
    source = viz.mermaid(pipe)
    assert source.startswith("flowchart LR\n")
    shapes = dict(re.findall(r'^\s+(\w+)\[?[(/]?\[?"([^"]+)"', source, re.MULTILINE))
    labels = set(shapes.values())
    assert {"load", "clean", "report", "score"} <= labels
    # Transcoded names are one dataset; parameters are a dataset too.
    assert {"raw", "clean", "report", "params:source", "models.linear.y"} <= labels
    edges = re.findall(r"^\s+(\w+) --> (\w+)$", source, re.MULTILINE)
    assert len(edges) == sum(len(n.inputs) + len(n.outputs) for n in pipe.nodes)
    assert all(a in shapes and b in shapes for a, b in edges)


def test_mermaid_nests_namespaces_as_subgraphs():
    source = viz.mermaid(example())
    lines = source.splitlines()
    outer = next(i for i, line in enumerate(lines) if '["models"]' in line)
    inner = next(i for i, line in enumerate(lines) if '["models.linear"]' in line)
    assert lines[outer].lstrip().startswith("subgraph")
    assert outer < inner  # models.linear is drawn inside models
    assert lines[inner].startswith(" " * 8)
    score = next(i for i, line in enumerate(lines) if '"score"' in line)
    y = next(i for i, line in enumerate(lines) if '"models.linear.y"' in line)
    end = next(i for i in range(inner, len(lines)) if lines[i].strip() == "end")
    assert inner < score < end
    assert inner < y < end  # its dataset sits in it too


def test_mermaid_escapes_labels_and_checks_direction():
    pipe = Pipeline([node(pause, 'say "hi" <b>', "out", name="quote")])
    source = viz.mermaid(pipe, direction="TB")
    assert source.startswith("flowchart TB")
    assert "say #quot;hi#quot; #lt;b#gt;" in source
    with pytest.raises(ValueError, match="direction should be"):
        viz.mermaid(pipe, direction="sideways")


# ------------------------------------------------------------- pipeline page


def test_pipeline_page_loads_offline_with_one_element_per_node(open_page):
    pipe = example()
    html = viz.pipeline_html(pipe, title="Example")
    opened = open_page(html)
    page = opened.page
    assert opened.errors == []
    assert all(url.startswith("file://") for url in opened.requests), opened.requests
    assert page.locator("g.node").count() == len(pipe.nodes)
    names = {page.locator("g.node").nth(i).get_attribute("data-name") for i in range(4)}
    assert names == {n.name for n in pipe.nodes}
    datasets = {"params:source", "raw", "clean", "report", "models.linear.y"}
    assert page.locator("g.dataset").count() == len(datasets)
    assert page.title() == "Example"


def test_clicking_a_node_shows_its_inputs_and_outputs(open_page):
    opened = open_page(viz.pipeline_html(example()))
    page = opened.page
    page.click('g.node[data-name="report"]')
    details = page.locator("#details").inner_text()
    assert "report" in details
    assert "clean" in details
    assert "raw@pandas" in details  # the node's own input name
    assert "tests.viz._nodes.combine" in details
    # The node and its neighbours stand out; the rest is dimmed.
    assert "selected" in page.get_attribute('g.node[data-name="report"]', "class")
    assert page.locator("path.edge.near").count() == 3
    page.click('g.dataset[data-name="raw"]')
    details = page.locator("#details").inner_text()
    assert "made by" in details
    assert "load" in details
    assert "report" in details
    assert opened.errors == []


def test_names_that_look_like_markup_stay_text(open_page):
    hostile = "<!--<script>"
    pipe = Pipeline([node(pause, hostile, "out</script>&", name="odd")])
    opened = open_page(viz.pipeline_html(pipe))
    page = opened.page
    assert page.evaluate("document.scripts.length") == 2  # data, then the script
    page.click('g.node[data-name="odd"]')
    details = page.locator("#details").inner_text()
    assert hostile in details
    assert "out</script>&" in details
    assert opened.errors == []
    source = viz.mermaid(Pipeline([node(pause, "a#b", "c", name="hash")]))
    assert "a#35;b" in source


def test_clicking_a_tag_picks_out_its_nodes(open_page):
    opened = open_page(viz.pipeline_html(example()))
    page = opened.page
    page.click('button.tag[data-tag="prep"]')
    picked = page.locator("g.node.near")
    assert picked.count() == 1
    assert picked.get_attribute("data-name") == "clean"
    page.keyboard.press("Escape")
    assert page.locator("g.node.near").count() == 0
    assert opened.errors == []


# ------------------------------------------------------------------ timeline


def mixed_run() -> list[RunEvent]:
    """A run on every placement, with a retry and a failure."""
    flaky = Flaky()
    pipe = Pipeline(
        [
            node(fetch, "a", "b", name="fetch"),
            node(pause, "b", "c1", name="left", executor="thread"),
            node(pause, "b", "c2", name="right", executor="thread"),
            node(pause, "b", "c3", name="crunch", executor="process"),
            node(flaky, "c1", "d", name="flaky", retries=1, executor="thread"),
            # After the flaky node: the failure cannot cut its retry short.
            node(combine, ["c2", "c3", "d"], "e", name="total", executor="inline"),
            node(broken, "e", "f", name="broken", executor="thread"),
        ]
    )
    events: list[RunEvent] = []
    with pytest.raises(ValueError, match="cannot be built"):
        ThreadRunner().run(
            pipe, DataCatalog({"a": MemoryDataset(1)}), on_event=events.append
        )
    return events


@pytest.fixture(scope="module")
def events() -> list[RunEvent]:
    return mixed_run()


def lanes_of(svg: Any) -> list[str]:
    return [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")
            if t.get("class") == "lane-label"]  # fmt: skip


def test_timeline_svg_has_a_lane_per_worker_and_a_bar_per_node(events):
    svg = ET.fromstring(viz.timeline_svg(events))
    ns = "{http://www.w3.org/2000/svg}"
    tasks = [g for g in svg.iter(f"{ns}g") if g.get("class") == "task"]
    started = [e.node for e in events if e.kind == "node_started"]
    assert sorted(g.get("data-node") or "" for g in tasks) == sorted(started)
    lanes = lanes_of(svg)
    assert lanes[0].startswith("event loop")  # async and inline nodes
    threads = {e.worker for e in events if e.placement == "thread" and e.worker}
    assert set(lanes) >= {str(t) for t in threads}
    assert len(threads) >= 2  # left and right overlapped on two threads
    pid = next(
        e.worker for e in events if e.kind == "node_finished" and e.node == "crunch"
    )
    assert f"process {pid}" in lanes
    bars = {g.get("data-node"): g for g in tasks}
    rect = bars["broken"].find(f"{ns}rect")
    assert rect is not None
    assert "failed" in (rect.get("class") or "")
    assert bars["broken"].find(f"{ns}path") is not None  # the cross
    assert len(bars["flaky"].findall(f"{ns}line")) == 1  # one retry tick
    assert "2 attempts" in (bars["flaky"].findtext(f"{ns}title") or "")


def test_timeline_page_loads_offline_and_shows_details_on_hover(events, open_page):
    opened = open_page(viz.timeline_html(events, title="A run"))
    page = opened.page
    assert opened.errors == []
    assert all(url.startswith("file://") for url in opened.requests), opened.requests
    started = [e.node for e in events if e.kind == "node_started"]
    assert page.locator("g.task").count() == len(started)
    assert "at most" in page.locator("header p").inner_text()
    page.hover('g.task[data-node="crunch"] rect')
    tip = page.locator("#tip")
    assert tip.is_visible()
    text = tip.inner_text()
    assert "crunch" in text
    assert "process" in text
    page.hover('g.task[data-node="broken"] rect')
    assert "ValueError: the report cannot be built" in tip.inner_text()
    assert opened.errors == []


def test_an_error_message_with_terminal_codes_keeps_the_svg_valid():
    events = [
        RunEvent("run_started", "r", 0.0, nodes=1),
        RunEvent("node_started", "r", 0.1, node="n", placement="async", worker="Main"),
        RunEvent("node_failed", "r", 0.2, node="n", placement="async", worker="Main",
                 error=ValueError("\x1b[31mred\x1b[0m"), duration=0.1),
        RunEvent("run_failed", "r", 0.3, duration=0.3, error=ValueError("x")),
    ]  # fmt: skip
    svg = ET.fromstring(viz.timeline_svg(events))  # well-formed XML
    assert "red" in "".join(svg.itertext())


def test_a_timeline_is_of_one_run(events):
    other = [RunEvent("run_started", "another-run", 0.0)]
    with pytest.raises(ValueError, match="A timeline shows one run"):
        viz.timeline_svg(events + other)
    with pytest.raises(ValueError, match="no events"):
        viz.timeline_html([])


def test_a_node_the_run_never_finished_is_drawn_to_the_runs_end():
    events = [
        RunEvent("run_started", "r", 0.0, nodes=1),
        RunEvent(
            "node_started", "r", 0.1, node="slow", placement="async", worker="Main"
        ),
        RunEvent("run_failed", "r", 0.5, duration=0.5, error=KeyboardInterrupt()),
    ]
    svg = ET.fromstring(viz.timeline_svg(events))
    ns = "{http://www.w3.org/2000/svg}"
    rect = next(r for r in svg.iter(f"{ns}rect") if "bar" in (r.get("class") or ""))
    assert "unfinished" in (rect.get("class") or "")
