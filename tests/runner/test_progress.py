"""``progress=True`` (issue 10, section 3): a bar on a terminal, lines elsewhere.

The terminal cases run a script in a child process whose standard error is a
real pseudo-terminal, and read what it drew; they also check that the bar's
refresh thread is gone once ``run()`` returns, however the run ended.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import SequentialRunner, ThreadRunner
from tests.runner._nodes import NodeFailure, add_one, fail

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, threading, time
{before}
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ThreadRunner

def slow(x):
    time.sleep(0.3)
    return x + 1

def broken(x):
    raise ValueError("boom")

nodes = [node(slow, "a", f"b{{i}}", name=f"step_{{i}}") for i in range(4)]
nodes.append(node(slow, "b0", "c", name="final"))
if {fail}:
    nodes.append(node(broken, "c", "d", name="broken"))
{extra}
try:
    ThreadRunner(max_workers=2).run(
        Pipeline(nodes), DataCatalog({{"a": MemoryDataset(1)}}), progress=True
    )
except ValueError as exc:
    print("raised:", exc, file=sys.stderr)
# rich's refresh thread (a _RefreshThread) must be gone; AnyIO's idle worker
# threads end on their own, a moment after their loop.
print("threads:", sorted(type(t).__name__ for t in threading.enumerate()), file=sys.stderr)
print("rich imported:", "rich" in sys.modules, file=sys.stderr)
"""


def on_terminal(*, fail: bool = False, before: str = "", extra: str = "") -> str:
    """Run the script with a pseudo-terminal as its standard error; its output."""
    master, slave = pty.openpty()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="150", PYTHONPATH=path)
    env.pop("NO_COLOR", None)
    code = textwrap.dedent(SCRIPT.format(fail=fail, before=before, extra=extra))
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert child.wait(timeout=60) == 0
    return b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_bar_with_counts_running_nodes_and_times():
    out = on_terminal()
    assert "━" in out  # the bar itself, redrawn in place
    assert "\x1b[" in out  # drawn with terminal escapes
    assert "5/5" in out  # nodes done / total
    assert re.search(r"step_\d, step_\d", out)  # the nodes running now
    assert "0:00:0" in out  # elapsed time and estimate
    assert "Run finished: 5 nodes" in out
    assert "threads: ['" in out
    assert "_RefreshThread" not in out  # the refresh thread is gone
    assert "rich imported: True" in out


def test_a_failed_run_stops_the_bar_and_says_what_failed():
    out = on_terminal(fail=True)
    assert "node 'broken' failed after" in out
    assert "ValueError: boom" in out
    assert "Run failed after" in out
    assert "raised: boom" in out
    assert "_RefreshThread" not in out


def test_two_runs_at_once_share_the_terminal():
    # The second run prints plain lines above the first run's bar, not a
    # second bar drawn over it; both bars' threads are gone afterwards.
    code = (
        "import threading\n"
        "runs = [threading.Thread(target=lambda: ThreadRunner(max_workers=2).run("
        "Pipeline(nodes), DataCatalog({'a': MemoryDataset(1)}), progress=True))"
        " for _ in range(2)]\n"
        "[t.start() for t in runs]; [t.join() for t in runs]\n"
    )
    out = on_terminal(before="", fail=False, extra=code).replace("\r", "")
    assert "━" in out
    assert "node 'final' finished in" in out  # the plain lines of one run
    assert out.count("Run finished: 5 nodes") >= 3  # two concurrent, one after
    assert "_RefreshThread" not in out


def test_a_terminal_without_rich_gets_the_plain_lines():
    out = on_terminal(before="sys.modules['rich'] = None  # as if not installed")
    assert "━" not in out
    assert "[5/5] node 'final' finished in" in out.replace("\r", "")
    assert "_RefreshThread" not in out


def test_off_a_terminal_a_line_per_finished_node(capsys):
    pipe = Pipeline(
        [node(add_one, "a", "b", name="one"), node(add_one, "b", "c", name="two")]
    )
    SequentialRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}), progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[1/2] node 'one' finished in ")
    assert lines[0].endswith("(inline)")
    assert lines[1].startswith("[2/2] node 'two' finished in ")
    assert lines[2].startswith("Run finished: 2 nodes in ")
    assert len(lines) == 3


def test_off_a_terminal_failures_and_retries_get_their_lines(capsys):
    attempts: list[int] = []

    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 2:
            raise NodeFailure("not yet")
        return x

    pipe = Pipeline(
        [
            node(flaky, "a", "b", name="flaky", retries=1, retry_delay=0),
            node(fail, "b", "c", name="broken"),
        ]
    )
    with pytest.raises(NodeFailure):
        ThreadRunner().run(pipe, DataCatalog({"a": MemoryDataset(1)}), progress=True)
    err = capsys.readouterr().err
    assert (
        "[0/2] node 'flaky' failed on attempt 1 (NodeFailure: not yet); retrying" in err
    )
    assert "[1/2] node 'flaky' finished in " in err
    assert "[1/2] node 'broken' failed after " in err
    assert "Run failed after " in err
    assert "1/2 nodes finished" in err


async def wait_forever(x: int) -> int:
    await anyio.sleep_forever()
    return x


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_node_the_deadline_stops_is_shown_as_stopped_not_failed(capsys, backend):
    pipe = Pipeline([node(wait_forever, "a", "b", name="waits")])

    async def main() -> None:
        with anyio.fail_after(0.2):
            await SequentialRunner().arun(
                pipe, DataCatalog({"a": MemoryDataset(1)}), progress=True
            )

    with pytest.raises(TimeoutError):
        anyio.run(main, backend=backend)
    err = capsys.readouterr().err
    assert "[0/1] node 'waits' stopped after " in err
    assert ": the run was cancelled" in err
    assert "Run stopped after " in err
    assert "0/1 nodes finished (cancelled)." in err
    assert "Cancelled" not in err  # no internal scope id


def test_progress_and_on_event_together():
    seen: list[str] = []
    SequentialRunner().run(
        Pipeline([node(add_one, "a", "b", name="one")]),
        DataCatalog({"a": MemoryDataset(1)}),
        progress=True,
        on_event=lambda e: seen.append(e.kind),
    )
    assert seen[0] == "run_started"
    assert seen[-1] == "run_finished"


def test_rich_is_not_imported_off_a_terminal():
    code = (
        "import sys; from dagloop.io import DataCatalog, MemoryDataset;"
        "from dagloop.pipeline import Pipeline, node;"
        "from dagloop.runner import SequentialRunner;"
        "SequentialRunner().run(Pipeline([node(abs, 'a', 'b', name='n')]),"
        " DataCatalog({'a': MemoryDataset(-1)}), progress=True);"
        "print('rich' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout.strip() == "False"
    assert "[1/1] node 'n' finished" in done.stderr
