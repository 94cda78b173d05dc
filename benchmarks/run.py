"""Run every benchmark scenario with its default sizes (``scripts/dev.py bench``)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

SCENARIOS = ["bench_pipeline_build.py"]


def main() -> None:
    here = Path(__file__).parent
    sys.path.insert(0, str(here))
    extra = sys.argv[1:]
    for script in SCENARIOS:
        print(f"== {script}", flush=True)
        sys.argv = [script, *extra]
        runpy.run_path(str(here / script), run_name="__main__")


if __name__ == "__main__":
    main()
