"""The benchmark scripts run end to end at tiny sizes, so they cannot rot unseen.

Nothing here looks at the figures (they mean nothing at these sizes); the tests
check that every scenario runs every engine it promises and writes its results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

TINY = [
    "--reps", "1",
    "--chain-nodes", "20",
    "--wide-nodes", "20",
    "--sizes", "50", "100",
    "--dag-sizes", "50", "100",
    "--kedro-dag-sizes", "50",
    "--fanout-nodes", "10",
    "--sleep-ms", "1",
    "--requests", "10",
    "--server-delay-ms", "1",
    "--cpu-nodes", "2",
    "--cpu-seconds", "0.01",
    "--payloads", "2",
    "--payload-mb", "1",
    "--latency-requests", "3",
    "--hop-nodes", "20",
    "--hop-kedro-nodes", "10",
    "--async-nodes", "20",
    "--hamilton-chain-nodes", "20",
    "--hamilton-sleep-nodes", "10",
    "--hamilton-sleep-ms", "1",
    "--hamilton-async-nodes", "20",
    "--events-chain-nodes", "20",
    "--events-fanout-nodes", "10",
    "--events-sleep-ms", "1",
    "--streaming-items", "10",
    "--streaming-delay-ms", "1",
]  # fmt: skip

SCENARIOS = {
    "pipeline_build",
    "overhead_chain",
    "overhead_wide",
    "scale_dag",
    "io_fanout",
    "api_aggregation",
    "cpu_parallel",
    "big_payload",
    "request_latency",
    "thread_hop",
    "async_overhead",
    "hamilton",
    "events",
    "streaming",
}
ALL_THREE = {"dagloop", "kedro", "floor"}
#: The engines a scenario measures, where not dagloop, Kedro and a floor.
ENGINES = {
    "pipeline_build": {"dagloop", "kedro"},  # no floor for building
    "request_latency": {"dagloop", "floor"},  # Kedro has no arun()
    "async_overhead": {"dagloop", "floor"},  # Kedro runs no async def nodes
    "hamilton": {"dagloop", "hamilton", "floor"},
    "events": {"dagloop"},  # dagloop listening against dagloop not listening
    "streaming": {"dagloop", "floor"},  # Kedro runs no async def generators
}


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n--- stderr ---\n{done.stderr}"
    return done


@pytest.mark.timeout(240)  # 13 scenarios, fresh interpreters: ~2 min on 2 busy cores
def test_every_scenario_runs_every_engine(tmp_path):
    run("run.py", *TINY, "--out", str(tmp_path))
    results = json.loads((tmp_path / "results.json").read_text())
    reports = {report["scenario"]: report for report in results["reports"]}
    assert set(reports) == SCENARIOS
    for name, report in reports.items():
        # Every repetition computed the right answer (the harness would only
        # note a wrong one and go on).
        assert not [n for n in report["notes"] if "wrong result" in n], name
        engines = {m["engine"] for m in report["measurements"]}
        assert engines == ENGINES.get(name, ALL_THREE), (name, engines)
        # Times are positive; a peak-memory delta may be 0 at these sizes.
        assert all(m["median"] >= 0 for m in report["measurements"]), name
        for engine in engines:
            assert any(
                m["median"] > 0 for m in report["measurements"] if m["engine"] == engine
            ), (name, engine)
    table = (tmp_path / "results.md").read_text()
    assert "dagloop's targets" in table


def test_stop_latency(tmp_path):
    out = run("stop_latency.py", "--reps", "1").stdout
    stops = ("cancel async", "cancel process", "worker death", "Ctrl-C")
    deadlines = ("deadline: inline", "deadline: thread", "deadline: dataset load")
    for stop in (*stops, "parent SIGKILL", *deadlines):
        assert f"| {stop} |" in out, out


def test_cpu_parallel_timeline():
    out = run("cpu_parallel_timeline.py", "--reps", "1", "--loops", "1000").stdout
    assert "dagloop ParallelRunner" in out
    assert "ProcessPoolExecutor" in out
    assert out.count("hand-off") == 2


def worktrees() -> list[str]:
    return subprocess.run(
        ["git", "-C", str(BENCHMARKS.parent), "worktree", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def test_compare_revisions():
    before = worktrees()
    out = run(
        "compare_revisions.py", "--base", "HEAD", "--rounds", "1", "--shapes", "chain"
    ).stdout
    assert "| overhead_chain: 2,000 trivial sync nodes" in out, out
    assert worktrees() == before  # its temporary worktree is gone
