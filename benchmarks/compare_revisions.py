"""Compare dagloop at two git revisions on the per-node paths, nobody listening.

For a change meant to cost nothing when unused (run events: issue 10 asks that a
run nobody listens to stays within 5% of before). Each revision's ``src/`` is
checked out in a temporary git worktree; fresh interpreters alternate between the
two (base, head, base, head, ...) so that a machine slowing down mid-run weighs on
both. Reported per shape: the median over processes of each process's fastest
run, and head / base.

    python benchmarks/compare_revisions.py --base afc8f6d            # against HEAD
    python benchmarks/compare_revisions.py --base afc8f6d --head WORKTREE --rounds 8

``WORKTREE`` (the default for ``--head``) is the working tree as it is, uncommitted
changes included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Run in a fresh interpreter with one revision's ``src`` first on the path:
#: prints the fastest of ``reps`` runs (µs per node for the chain, ms for fanout).
PROBE = r"""
import sys, time
import dagloop
assert dagloop.__file__.startswith(sys.argv[1]), dagloop.__file__
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import SequentialRunner, ThreadRunner

def inc(x): return x + 1
def nap(s): time.sleep(s); return s

shape, reps = sys.argv[2], int(sys.argv[3])
if shape == "chain":
    n = 2000
    pipe = Pipeline([node(inc, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(n)])
    def once():
        catalog, runner = DataCatalog({"d0": MemoryDataset(0)}), SequentialRunner()
        start = time.perf_counter(); runner.run(pipe, catalog)
        return (time.perf_counter() - start) / n * 1e6
else:
    pipe = Pipeline([node(nap, "delay", f"s{i}", name=f"s{i}") for i in range(500)])
    def once():
        catalog = DataCatalog({"delay": MemoryDataset(0.02)})
        runner = ThreadRunner(max_workers=64)
        start = time.perf_counter(); runner.run(pipe, catalog)
        return (time.perf_counter() - start) * 1e3
for _ in range(3):
    once()
print(min(once() for _ in range(reps)))
"""

SHAPES = {
    "chain": (
        "overhead_chain: 2,000 trivial sync nodes, SequentialRunner",
        "µs/node",
        11,
    ),
    "fanout": ("io_fanout: 500 nodes x 20 ms, ThreadRunner(64)", "ms", 3),
}


def probe(src: Path, shape: str, reps: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), shape, str(reps)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with")
    parser.add_argument("--head", default="WORKTREE", help="a revision, or WORKTREE")
    parser.add_argument("--rounds", type=int, default=6, help="processes per revision")
    parser.add_argument("--shapes", default="chain,fanout", help="chain,fanout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees: dict[str, Path] = {}
        for label, rev in (("base", args.base), ("head", args.head)):
            if rev == "WORKTREE":
                trees[label] = ROOT / "src"
                continue
            where = Path(tmp) / label
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "add",
                    "-q",
                    "--detach",
                    str(where),
                    rev,
                ],
                check=True,
            )
            trees[label] = where / "src"
        try:
            print(f"base {args.base}, head {args.head}; {args.rounds} processes each")
            print("| shape | base | head | head / base |\n|---|---|---|---|")
            for shape in args.shapes.split(","):
                title, unit, reps = SHAPES[shape]
                times: dict[str, list[float]] = {"base": [], "head": []}
                for _ in range(args.rounds):
                    for label in ("base", "head"):
                        times[label].append(probe(trees[label], shape, reps))
                base, head = (statistics.median(times[k]) for k in ("base", "head"))
                print(
                    f"| {title} | {base:.3g} {unit} | {head:.3g} {unit} | {head / base:.3f} |"
                )
        finally:
            for label, rev in (("base", args.base), ("head", args.head)):
                if rev != "WORKTREE":
                    subprocess.run(
                        [
                            "git",
                            "-C",
                            str(ROOT),
                            "worktree",
                            "remove",
                            "--force",
                            str(Path(tmp) / label),
                        ],
                        check=False,
                    )


if __name__ == "__main__":
    main()
