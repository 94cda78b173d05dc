"""Node functions for tests of the worker-process boundary (importable by workers)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

_logger = logging.getLogger("tests.worker_nodes")


class TwoArgumentError(Exception):
    """Pickles, but cannot be unpickled: ``__init__`` wants two arguments."""

    def __init__(self, what: str, code: int) -> None:
        super().__init__(what)
        self.code = code


def raise_two_argument_error(x: Any) -> Any:
    raise TwoArgumentError("the real problem", 42)


def raise_keyboard_interrupt(x: Any) -> Any:
    raise KeyboardInterrupt


def raise_system_exit(x: Any) -> Any:
    sys.exit(3)


def _explode() -> Any:
    raise ValueError("this value cannot be rebuilt")


class LoadsNowhere:
    """Pickles fine; unpickling it raises."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_explode, ())


def return_unloadable(x: Any) -> Any:
    return LoadsNowhere()


def log_unpicklable_extra(x: Any) -> Any:
    _logger.warning("with a lock attached", extra={"lock": threading.Lock()})
    return x


def log_badly(x: Any) -> Any:
    _logger.warning("two placeholders, one argument: %s %s", x)
    return x


def session_of_worker(x: Any) -> tuple[int, int]:
    return os.getpid(), os.getsid(0)


def spawn_then_hang(pid_file: str) -> Any:
    """Start a long-lived child process, write its pid, then hang."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(pid_file, "w") as handle:
        handle.write(str(child.pid))
    time.sleep(600)


def kill_myself(x: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def loaded_modules(names: list[str]) -> list[str]:
    """Which of ``names`` this process has imported already."""
    return [name for name in names if name in sys.modules]


_calls_here = 0


def count_calls_here(x: Any) -> int:
    """How many times this function ran in this process (module state)."""
    global _calls_here
    _calls_here += 1
    return _calls_here
