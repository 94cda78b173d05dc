"""API aggregation: many async fetches from several hosts, capped per host, merged.

A city dashboard is built from three APIs ("hosts"): weather, air quality and
events. For every (host, city) pair there is one ``async def`` fetch node; all of
them wait on the network together on one event loop, over one shared
``httpx.AsyncClient`` (one connection pool for the run). Each host accepts only a
few requests at a time, so every fetch takes a slot from its host's
``anyio.CapacityLimiter`` for the duration of its request. A merge node combines
everything into one report, saved as JSON through ``JSONDataset``.

Offline: the three hosts are local HTTP servers on three loopback ports
(``local_apis.py``), which also count how many requests each handled at once.

Run it:  python examples/api_aggregation/aggregate.py [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from local_apis import HOSTS, start_hosts, stop_hosts

from dagloop.io import DataCatalog, JSONDataset
from dagloop.io.http_dataset import shared_http_client
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ThreadRunner

CITIES = (
    "oslo", "lima", "accra", "hanoi", "quito", "perth",
    "turin", "leeds", "osaka", "dakar", "malmo", "cusco",
)  # fmt: skip

#: How many requests each host may receive at once (its published rate limit).
#:
#: Why a limiter per host, and not ``ThreadRunner(max_concurrency=N)``?
#: ``max_concurrency`` bounds how many ``async def`` nodes of the *whole run* are
#: in flight: one number for every host together. It cannot give the air-quality
#: API 2 slots and the weather API 4, and it does not stop one host from getting
#: all N slots at once (here: 12 ready weather fetches would fill any N <= 12).
#: A ``CapacityLimiter`` per host, shared by that host's fetch nodes, enforces
#: exactly the limit each API states, while fetches to other hosts proceed at
#: their own pace. It is held only around the HTTP request, not while a node
#: waits to start or decodes its answer. (``max_concurrency`` is still useful on
#: top, as a global bound on open sockets or memory.)
HOST_LIMITS = {"weather": 4, "air": 2, "events": 3}


# ------------------------------------------------------------------- the nodes


async def fetch_json(url: str, *, limiter: anyio.CapacityLimiter) -> dict[str, Any]:
    """GET ``url`` on the run's shared connection pool, within ``limiter``."""
    async with shared_http_client() as client:  # the run's client: no new pool
        async with limiter:  # wait for one of this host's slots
            response = await client.get(url, timeout=30)
        response.raise_for_status()
        return dict(response.json())


def merge(*payloads: dict[str, Any]) -> dict[str, Any]:
    """One record per city with every host's fields, and a summary."""
    cities: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        fields = dict(payload)
        cities.setdefault(fields.pop("city"), {}).update(fields)
    return {
        "cities": dict(sorted(cities.items())),
        "summary": {
            "cities": len(cities),
            "warmest": max(cities, key=lambda c: cities[c]["temperature_c"]),
            "cleanest_air": min(cities, key=lambda c: cities[c]["aqi"]),
            "events": sum(len(c["events"]) for c in cities.values()),
        },
    }


# ------------------------------------------------- the pipeline and catalog


def url_dataset(host: str, city: str) -> str:
    return f"{host}_{city}_url"


def build_pipeline(
    cities: tuple[str, ...] = CITIES, limits: dict[str, int] = HOST_LIMITS
) -> Pipeline:
    """One fetch node per (host, city), sharing its host's limiter; then merge.

    Build a fresh pipeline for each run: a limiter belongs to the event loop that
    first uses it.
    """
    limiters = {host: anyio.CapacityLimiter(limit) for host, limit in limits.items()}
    fetches = [
        node(
            partial(fetch_json, limiter=limiters[host]),
            url_dataset(host, city),
            f"{host}_{city}",
            name=f"fetch_{host}_{city}",
            tags=[host],
        )
        for host in limits
        for city in cities
    ]
    merged = node(merge, [f.outputs[0] for f in fetches], "report", name="merge")
    return pipeline([*fetches, merged])


def build_catalog(
    base_urls: dict[str, str], report_path: Path, cities: tuple[str, ...] = CITIES
) -> DataCatalog:
    """The URLs to fetch (free inputs) and where the report goes."""
    catalog = DataCatalog({"report": JSONDataset(str(report_path))})
    for host, base_url in base_urls.items():
        for city in cities:
            catalog[url_dataset(host, city)] = f"{base_url}/cities/{city}"
    return catalog


# ------------------------------------------------------------------------ main


def aggregate(out: Path, delay: float) -> dict[str, Any]:
    """Start the local hosts, run the job, and return the report and host stats."""
    apis = start_hosts(delay, HOSTS)
    try:
        pipe = build_pipeline()
        catalog = build_catalog({h: api.base_url for h, api in apis.items()}, out)
        print(
            f"{len(pipe.nodes) - 1} fetch nodes over {len(apis)} hosts "
            f"(caps: {HOST_LIMITS}), {delay * 1000:.0f} ms per request"
        )
        start = time.perf_counter()
        ThreadRunner().run(pipe, catalog)  # async nodes run on the loop, together
        elapsed = time.perf_counter() - start
    finally:
        stop_hosts(apis)
    hosts = {
        host: {
            "cap": HOST_LIMITS[host],
            "max_in_flight": api.stats.max_in_flight,
            "requests": api.stats.requests,
            "connections": api.stats.connections,
        }
        for host, api in apis.items()
    }
    for host, seen in hosts.items():
        print(
            f"  {host:<8} {seen['requests']} requests over {seen['connections']} "
            f"connection(s), at most {seen['max_in_flight']} at once (cap {seen['cap']})"
        )
    report = json.loads(out.read_text())
    print(f"Ran in {elapsed:.2f} s; report saved to {out}")
    print(f"summary = {report['summary']}")
    return {"report": report, "hosts": hosts}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="report file (default: a temp dir)")
    parser.add_argument(
        "--delay-ms", type=int, default=50, help="each host's answer time (default 50)"
    )
    args = parser.parse_args(argv)
    if args.out is not None:
        return aggregate(args.out, args.delay_ms / 1000)
    with tempfile.TemporaryDirectory() as tmp:
        return aggregate(Path(tmp, "report.json"), args.delay_ms / 1000)


if __name__ == "__main__":
    main()
