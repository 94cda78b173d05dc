"""API aggregation: many async fetches from several hosts, capped per host, merged.

A city dashboard is built from three APIs ("hosts"): weather, air quality and
events. For every (host, city) pair there is one ``async def`` fetch node; all of
them wait on the network together on one event loop, over one shared
``httpx.AsyncClient`` (one connection pool for the run). Each host accepts only a
few requests at a time, so every fetch takes a slot from its host's
``anyio.CapacityLimiter`` for the duration of its request. A merge node combines
everything into one report, saved as JSON through ``JSONDataset``.

A fourth API pages through a city network's sensor history, within a
published quota (5 requests per second, enforced by the server with 429s). Its
source node is an ``async def`` generator: each page goes downstream as it
arrives, and a summary node folds the pages in while the source is still
paging; every request first takes a start from one shared ``RateLimit`` set
just under the quota, so the server refuses nothing.

Offline: the hosts are local HTTP servers on loopback ports (``local_apis.py``),
which also count how many requests each handled at once.

Run it:  python examples/api_aggregation/aggregate.py [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from local_apis import HOSTS, PagedAPI, start_hosts, stop_hosts

from dagloop.io import DataCatalog, JSONDataset
from dagloop.io.http_dataset import shared_http_client
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import RateLimit, ThreadRunner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

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


#: The history API's published quota: 5 requests in any second.
HISTORY_PUBLISHED = (5, 1.0)
#: What the job allows itself: one below, as headroom for the network (a
#: request granted on time can still arrive late, bunched with the next). One
#: object for every run that calls the API: its starts are counted across
#: runs, threads and event loops.
HISTORY_QUOTA = RateLimit(4, per=1.0)
HISTORY_PAGES = 8


async def history_pages(base_url: str) -> AsyncIterator[dict[str, Any]]:
    """Page through ``/history``, one request per page within the quota; each
    page goes downstream as soon as it arrives (a streaming node)."""
    page: int | None = 0
    async with shared_http_client() as client:
        while page is not None:
            await HISTORY_QUOTA.acquire()  # a start of the quota per request
            response = await client.get(
                f"{base_url}/history", params={"page": page}, timeout=30
            )
            response.raise_for_status()
            body = dict(response.json())
            yield body
            page = body["next"]


async def summarise_history(pages: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    """Fold the pages in as they arrive: the readings' count, mean and peak."""
    count, total, peak, seen = 0, 0.0, float("-inf"), 0
    async for page in pages:
        seen += 1
        count += len(page["readings"])
        total += sum(page["readings"])
        peak = max(peak, *page["readings"])
    return {
        "pages": seen,
        "readings": count,
        "mean": round(total / count, 2),
        "peak": peak,
    }


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
    cities: tuple[str, ...] = CITIES,
    limits: dict[str, int] = HOST_LIMITS,
    *,
    history: bool = True,
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
    paging = [
        node(history_pages, "history_url", "history_pages", name="page_history"),
        node(summarise_history, "history_pages", "history", name="summarise_history"),
    ]
    return pipeline([*fetches, merged, *(paging if history else [])])


def build_catalog(
    base_urls: dict[str, str],
    report_path: Path,
    cities: tuple[str, ...] = CITIES,
    history_url: str = "",
) -> DataCatalog:
    """The URLs to fetch (free inputs) and where the reports go."""
    catalog = DataCatalog(
        {
            "report": JSONDataset(str(report_path)),
            "history": JSONDataset(str(report_path.with_name("history.json"))),
            "history_url": history_url,
        }
    )
    for host, base_url in base_urls.items():
        for city in cities:
            catalog[url_dataset(host, city)] = f"{base_url}/cities/{city}"
    return catalog


# ------------------------------------------------------------------------ main


def aggregate(out: Path, delay: float) -> dict[str, Any]:
    """Start the local hosts, run the job, and return the report and host stats."""
    apis = start_hosts(delay, HOSTS)
    history_api = PagedAPI(HISTORY_PAGES, *HISTORY_PUBLISHED, delay)
    try:
        pipe = build_pipeline()
        catalog = build_catalog(
            {h: api.base_url for h, api in apis.items()},
            out,
            history_url=history_api.base_url,
        )
        print(
            f"{len(pipe.nodes) - 1} fetch nodes over {len(apis)} hosts "
            f"(caps: {HOST_LIMITS}), {delay * 1000:.0f} ms per request"
        )
        start = time.perf_counter()
        ThreadRunner().run(pipe, catalog)  # async nodes run on the loop, together
        elapsed = time.perf_counter() - start
    finally:
        stop_hosts(apis)
        history_api.close()
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
    history = json.loads(out.with_name("history.json").read_text())
    print(
        f"  history  {len(history_api.times)} pages at {HISTORY_QUOTA.rate}/s "
        f"(quota {HISTORY_PUBLISHED[0]}/s), {history_api.rejected} refused: {history}"
    )
    print(f"Ran in {elapsed:.2f} s; report saved to {out}")
    print(f"summary = {report['summary']}")
    return {
        "report": report,
        "hosts": hosts,
        "history": history,
        "history_requests": list(history_api.times),
        "history_refused": history_api.rejected,
    }


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
