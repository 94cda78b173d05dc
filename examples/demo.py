"""dagloop's offline demo: an API-aggregation pipeline and its execution plan.

The pipeline has the shape of a typical aggregation job: many independent fetch
nodes (one per API endpoint), a merge node that waits for all of them, and a report.
This demo builds it with dagloop's Kedro-compatible pipeline API and prints the
plan: the topological layers (nodes in one layer can run at the same time), the
free inputs the catalog must provide and the outputs the run produces.

Run it with ``python3 scripts/dev.py demo`` (add ``--sources N`` for a wider fan-out).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from dagloop.pipeline import Pipeline, node, pipeline


def fetch(endpoint: str) -> dict[str, Any]:
    """Stand-in for an HTTP GET: returns the endpoint it was asked for."""
    return {"endpoint": endpoint, "items": []}


def merge(*responses: dict[str, Any]) -> dict[str, Any]:
    """Combine every source's response into one document."""
    return {r["endpoint"]: r["items"] for r in responses}


def report(merged: dict[str, Any], params: dict[str, Any]) -> str:
    """Summarise the merged data."""
    return f"{params['title']}: {len(merged)} sources"


def build_pipeline(sources: int) -> Pipeline:
    """One namespaced fetch per source, then merge and report."""
    fetch_one = pipeline([node(fetch, "endpoint", "response", name="fetch")])
    fetches = [
        pipeline(
            fetch_one,
            namespace=f"source_{i:03d}",
            inputs={"endpoint": f"endpoint_{i:03d}"},
            outputs={"response": f"response_{i:03d}"},
        )
        for i in range(sources)
    ]
    responses = [f"response_{i:03d}" for i in range(sources)]
    combine = [
        node(merge, responses, "merged", name="merge"),
        node(report, ["merged", "params:report"], "report", name="report"),
    ]
    return Pipeline([*fetches, *combine])


def print_plan(pipe: Pipeline) -> None:
    """Print layers, inputs and outputs of ``pipe``."""
    layers = pipe.grouped_nodes
    print(f"Execution plan: {len(pipe.nodes)} nodes in {len(layers)} layers")
    for depth, layer in enumerate(layers):
        names = [n.name for n in layer]
        shown = ", ".join(names[:4]) + (
            f", ... (+{len(names) - 4} more)" if len(names) > 4 else ""
        )
        print(f"  layer {depth}: {len(layer):>4} node(s) can run at once: {shown}")
    print(
        f"Free inputs ({len(pipe.inputs())}): {', '.join(sorted(pipe.inputs())[:5])}, ..."
    )
    print(f"Outputs: {', '.join(sorted(pipe.outputs()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sources", type=int, default=200, help="number of fetch nodes"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    pipe = build_pipeline(args.sources)
    elapsed = time.perf_counter() - started
    print_plan(pipe)
    print(f"Built and validated the pipeline in {elapsed * 1000:.1f} ms.")


if __name__ == "__main__":
    main()
