"""A project folder under ``tmp_path`` and the real ``dagloop`` command run in it.

Every command runs in a subprocess (``python -m dagloop``, or the ``dagloop``
script installed next to ``sys.executable``) with the project as its working
directory, ``NO_COLOR`` set and a fixed terminal width, so its output does not
depend on the machine or on the test process. Nodes of the test pipelines
append their names to ``ran.txt``: which nodes ran is read from there, not
from log lines or timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The console script the package installs, beside this interpreter.
SCRIPT = Path(sys.executable).with_name("dagloop")

#: How long one command may take before the test fails (under the per-test 60 s).
COMMAND_TIMEOUT = 50

#: Nodes for the test pipelines: each appends its name to ran.txt (in the
#: project's folder, the command's working directory) before computing.
NODES = '''\
"""Test pipelines: each node records that it ran."""

from __future__ import annotations

from dagloop.pipeline import Pipeline, node, pipeline


def ran(name: str) -> None:
    with open("ran.txt", "a", encoding="utf-8") as file:
        file.write(name + "\\n")


def make(start):
    ran("make")
    return [start, start + 1, start + 2]


def double(numbers):
    ran("double")
    return [n * 2 for n in numbers]


def total(doubled, scale):
    ran("total")
    return sum(doubled) * scale


def create_pipeline() -> Pipeline:
    return pipeline(
        [
            node(make, "params:start", "numbers", name="make", tags=["ingest"]),
            node(double, "numbers", "doubled", name="double", tags=["prep"]),
            node(total, ["doubled", "params:scale"], "total", name="total",
                 tags=["prep", "report"]),
        ]
    )


PIPELINE = create_pipeline()
'''

CATALOG = """\
numbers:
  type: json.JSONDataset
  filepath: data/numbers.json
total:
  type: json.JSONDataset
  filepath: data/total.json
"""

PARAMETERS = """\
start: 1
scale: 10
"""


@dataclass(frozen=True)
class Result:
    """What a command did: its exit status and both output streams."""

    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def dagloop(
    *args: str, cwd: Path, script: bool = False, env: dict[str, str] | None = None
) -> Result:
    """Run ``dagloop ARGS`` in ``cwd``: through ``python -m dagloop``, or the
    installed ``dagloop`` script with ``script``; ``env`` adds variables."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "dagloop"]
    done = subprocess.run(
        [*command, *args],
        cwd=cwd,
        env={**command_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def command_env() -> dict[str, str]:
    """The test process's environment, made deterministic for the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGLOOP_")}
    env.pop("FORCE_COLOR", None)
    env.pop("PYTHONWARNINGS", None)
    return {**env, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1"}


class ProjectDir:
    """A project folder: files written into it, commands run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        """Write ``text`` (dedented) to ``relative``, creating its folders."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
        return path

    def run(
        self, *args: str, script: bool = False, env: dict[str, str] | None = None
    ) -> Result:
        """``dagloop ARGS`` with the project as the working directory."""
        return dagloop(*args, cwd=self.root, script=script, env=env)

    def ok(self, *args: str) -> Result:
        """``dagloop ARGS``, which must succeed."""
        result = self.run(*args)
        assert result.code == 0, result
        return result

    def ran(self) -> list[str]:
        """The nodes that ran since the last call, in the order they ran."""
        log = self.root / "ran.txt"
        if not log.exists():
            return []
        names = log.read_text("utf-8").split()
        log.unlink()
        return names

    def data(self, relative: str) -> Any:
        """A JSON file the run saved, under ``data/``."""
        return json.loads((self.root / "data" / relative).read_text("utf-8"))
