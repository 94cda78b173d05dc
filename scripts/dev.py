#!/usr/bin/env python3
"""Set up a virtual environment and run dagloop's demo, tests or benchmarks.

Usage (from anywhere; only a Python >= 3.11 with ``venv`` is needed):

    python3 scripts/dev.py demo    # install dagloop, run the offline demo
    python3 scripts/dev.py test    # install dev tools, run ruff, mypy and pytest
    python3 scripts/dev.py bench   # install benchmark extras, run the benchmarks

The environment lives in ``.venv`` next to ``pyproject.toml``; it is created on
first use and reinstalled only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("DAGLOOP_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

#: Which extras each command needs installed.
EXTRAS = {"demo": "", "test": "[dev]", "bench": "[dev,bench]"}


def run(*args: str | Path) -> None:
    """Run a command from the project root, stopping on failure."""
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit(completed.returncode)


def ensure_env(extras: str) -> None:
    """Create the venv and install dagloop (editable) with ``extras`` if stale."""
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".dagloop-installed-{digest}{extras}"
    if stamp.exists():
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    stamp.touch()


def demo(args: list[str]) -> None:
    """Run the offline demo."""
    run(PYTHON, "examples/demo.py", *args)


def ensure_browser() -> None:
    """Chromium for the pages' browser tests (tests/viz): installed with Debian's
    apt-get when missing and run as root; otherwise say how to get it."""
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        ):
            print("+", " ".join(command), flush=True)
            subprocess.run(command, check=True, env=env)
        return
    sys.exit(
        "The tests open pages in a headless Chromium: install it first "
        "(Debian/Ubuntu: sudo apt-get install chromium) and put it on PATH."
    )


def test(args: list[str]) -> None:
    """Lint, type-check and test; any failure ends the run with its exit code."""
    ensure_browser()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(PYTHON, "-m", "pytest", *args)


def bench(args: list[str]) -> None:
    """Run the benchmark suite (see benchmarks/README.md)."""
    run(PYTHON, "benchmarks/run.py", *args)


COMMANDS = {"demo": demo, "test": test, "bench": bench}


def main() -> None:
    """Dispatch ``scripts/dev.py <command> [args...]``."""
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 scripts/dev.py {{{'|'.join(COMMANDS)}}} [args...]")
    command = sys.argv[1]
    ensure_env(EXTRAS[command])
    COMMANDS[command](sys.argv[2:])


if __name__ == "__main__":
    main()
