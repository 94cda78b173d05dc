"""How the tests start the venv's ``kedro`` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

KEDRO = Path(sys.executable).parent / "kedro"


def kedro_env(**extra: str) -> dict[str, str]:
    """The environment for a ``kedro`` subprocess: no telemetry, wide log lines."""
    return {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "COLUMNS": "200",  # rich wraps log lines at 80 columns when not on a terminal
        **extra,
    }
