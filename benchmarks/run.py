"""Run the benchmark scenarios (``python3 scripts/dev.py bench`` runs this).

Each scenario runs in its own interpreter (``benchmarks/bench_<name>.py``), one
after the other; their reports are combined into ``out/results.{json,md}``.

    python benchmarks/run.py                         # everything, default sizes
    python benchmarks/run.py --only overhead_chain,io_fanout --reps 5
    python benchmarks/run.py --kedro-dag-sizes 2000 20000   # Kedro's 20k DAG (~14 min)
    python benchmarks/run.py --save-results          # also write benchmarks/RESULTS.md

Scenario flags (``--chain-nodes``, ``--dag-sizes``, ...) are listed by ``--help``;
each is passed to the scenario that defines it.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import OUT_DIR, Report, base_parser, write_reports  # noqa: E402

SCENARIOS = [
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
]
RESULTS = HERE / "RESULTS.md"


def own_parser() -> object:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default="", help=f"comma-separated scenarios: {','.join(SCENARIOS)}"
    )
    parser.add_argument("--reps", type=int, help="repetitions (default: per scenario)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument(
        "--save-results",
        action="store_true",
        help=f"also copy the combined table to {RESULTS.name}",
    )
    return parser


def main() -> None:
    parser = own_parser()
    full = own_parser()
    for name in SCENARIOS:
        module = importlib.import_module(f"bench_{name}")
        module.add_arguments(full.add_argument_group(f"{name} ({module.TITLE})"))
    full.parse_args()  # --help, and errors for unknown or malformed flags
    args, forwarded = parser.parse_known_args()
    selected = [s.strip() for s in args.only.split(",") if s.strip()] or SCENARIOS
    unknown = sorted(set(selected) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {SCENARIOS}")

    start = time.perf_counter()
    reports: list[Report] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in selected:
            print(f"== {name}", flush=True)
            report_path = Path(tmp) / f"{name}.json"
            command = [
                sys.executable,
                str(HERE / f"bench_{name}.py"),
                "--lenient",
                "--json",
                str(report_path),
                "--out",
                str(args.out / name),
                *(["--reps", str(args.reps)] if args.reps else []),
                *forwarded,
            ]
            done = subprocess.run(command, check=False)
            if done.returncode or not report_path.exists():
                print(f"!! {name} failed (exit code {done.returncode})", flush=True)
                failed.append(name)
                continue
            reports.append(Report.from_json(json.loads(report_path.read_text())))

    table = write_reports(reports, args.out, "dagloop benchmarks")
    if failed:
        print(f"failed scenarios: {', '.join(failed)}")
    print(f"\n{table.read_text()}")
    print(f"all scenarios: {time.perf_counter() - start:.0f} s; table: {table}")
    if args.save_results:
        if failed or args.only:
            print(f"note: {RESULTS.name} written from a partial run")
        RESULTS.write_text(table.read_text())
        print(f"written: {RESULTS}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
