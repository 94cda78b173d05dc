"""dagloop's offline demo: an API-aggregation job, run async and run sequentially.

The demo starts a small HTTP server on 127.0.0.1 that answers every request after a
delay (a stand-in for a slow API), then runs the same job twice:

1. **async**: one ``async def fetch`` node per source, each awaiting an HTTP GET
   through dagloop's shared ``httpx.AsyncClient`` (one connection pool for the
   run), then a merge node and a report node, on ``ThreadRunner`` — the fetches
   run concurrently on the event loop;
2. **sync**: the same pipeline with a blocking ``fetch`` (``urllib``) on
   ``SequentialRunner`` — what a plain sequential Kedro run does.

It prints the plan, what ran and how long each run took. The report is saved as
JSON through ``JSONDataset`` (atomic write) in a temporary folder.

Run it with ``python3 scripts/dev.py demo`` (options: ``--sources N --delay-ms D``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dagloop.io import DataCatalog, JSONDataset
from dagloop.io.http_dataset import shared_http_client
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import SequentialRunner, ThreadRunner

# ------------------------------------------------------------------ the server


def start_server(delay: float) -> ThreadingHTTPServer:
    """An HTTP server on an ephemeral loopback port answering after ``delay`` s."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            source = self.path.rsplit("/", 1)[-1]
            body = json.dumps(
                {"source": source, "items": [source, len(source)]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep the demo's output readable

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # the default backlog of 5 would serialise a burst

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ------------------------------------------------------------------- the nodes


async def fetch(url: str) -> dict[str, Any]:
    """GET ``url`` on the run's shared connection pool."""
    async with shared_http_client() as client:
        response = await client.get(url)
        response.raise_for_status()
        return dict(response.json())


def fetch_blocking(url: str) -> dict[str, Any]:
    """GET ``url`` the classic way: the thread waits for the answer."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return dict(json.load(response))


def merge(*responses: dict[str, Any]) -> dict[str, Any]:
    """Combine every source's response into one document."""
    return {r["source"]: r["items"] for r in responses}


def report(merged: dict[str, Any]) -> dict[str, Any]:
    """Summarise the merged data."""
    return {"sources": len(merged), "items": sum(len(v) for v in merged.values())}


def build_pipeline(sources: int, fetcher: Any) -> Pipeline:
    """One namespaced fetch per source, then merge and report."""
    fetch_one = pipeline([node(fetcher, "url", "response", name="fetch")])
    fetches = [
        pipeline(
            fetch_one,
            namespace=f"source_{i:03d}",
            inputs={"url": f"url_{i:03d}"},
            outputs={"response": f"response_{i:03d}"},
        )
        for i in range(sources)
    ]
    responses = [f"response_{i:03d}" for i in range(sources)]
    return Pipeline(
        [
            *fetches,
            node(merge, responses, "merged", name="merge"),
            node(report, "merged", "report", name="report"),
        ]
    )


def make_catalog(base_url: str, sources: int, out: Path) -> DataCatalog:
    catalog = DataCatalog({"report": JSONDataset(str(out))})
    for i in range(sources):
        catalog[f"url_{i:03d}"] = f"{base_url}/sources/{i:03d}"
    return catalog


# ------------------------------------------------------------------------ main


def print_plan(pipe: Pipeline) -> None:
    layers = pipe.grouped_nodes
    print(f"Plan: {len(pipe.nodes)} nodes in {len(layers)} layers")
    for depth, layer in enumerate(layers):
        names = [n.name for n in layer]
        shown = ", ".join(names[:3]) + (
            f", ... (+{len(names) - 3})" if len(names) > 3 else ""
        )
        print(f"  layer {depth}: {len(layer):>3} node(s) — {shown}")


def timed_run(runner: Any, pipe: Pipeline, catalog: DataCatalog) -> float:
    start = time.perf_counter()
    runner.run(pipe, catalog)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sources", type=int, default=50, help="fetch nodes (default 50)"
    )
    parser.add_argument(
        "--delay-ms", type=int, default=50, help="server delay per request"
    )
    args = parser.parse_args(argv)
    server = start_server(args.delay_ms / 1000)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        f"Local API at {base_url}: {args.delay_ms} ms per request, {args.sources} sources."
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async_pipe = build_pipeline(args.sources, fetch)
            print_plan(async_pipe)
            async_out = Path(tmp, "report_async.json")
            async_time = timed_run(
                ThreadRunner(),
                async_pipe,
                make_catalog(base_url, args.sources, async_out),
            )
            sync_out = Path(tmp, "report_sync.json")
            sync_time = timed_run(
                SequentialRunner(),
                build_pipeline(args.sources, fetch_blocking),
                make_catalog(base_url, args.sources, sync_out),
            )
            result = json.loads(async_out.read_text())
            same = result == json.loads(sync_out.read_text())
    finally:
        server.shutdown()
        server.server_close()
    print(
        f"\nRan {len(async_pipe.nodes)} nodes twice; report: {result} (identical: {same})"
    )
    print(f"  async fetch nodes, ThreadRunner:      {async_time:6.2f} s")
    print(f"  blocking fetch nodes, SequentialRunner: {sync_time:6.2f} s")
    print(f"  speed-up: {sync_time / async_time:.1f}x")


if __name__ == "__main__":
    main()
