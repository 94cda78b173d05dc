"""scale_dag: build time, run time and peak memory of a large random layered DAG.

The DAG (fixed seed; see ``_nodes.wiring``): ``sqrt(N)`` nodes per layer, each
node reading 1-3 outputs of earlier layers, the first layer reading 10 free inputs.
Every measurement runs in a fresh interpreter (``--worker``), so that peak memory
is not polluted by earlier measurements, and reports:

* build: making the N nodes and the ``Pipeline`` (validation, cycle check);
* run: ``SequentialRunner().run(pipeline, catalog)``, and per node;
* peak memory: ``ru_maxrss`` after the run minus ``ru_maxrss`` just before the
  build (the worker has imported everything and done a 50-node warm-up run, so
  the baseline is the interpreter and the engine's modules). Everything the
  engine allocates to build and run the pipeline counts, once, at its peak.

The floor builds a dependency dict and a topological order (``graphlib``) and
runs the calls in that order with a dict for the data.

Kedro's runner recomputes ``Pipeline.inputs()`` after every node, so its per-node
cost grows with N (20,000 nodes take ~14 minutes): it is measured at smaller
sizes by default (``--kedro-dag-sizes``; pass ``--kedro-dag-sizes 2000 20000`` to
force the full sizes).

    python benchmarks/bench_scale_dag.py --dag-sizes 2000 20000 --kedro-dag-sizes 1000 2000
"""

from __future__ import annotations

import gc
import graphlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import (
    TIMES,
    check,
    configure_logging,
    engine_names,
    fmt,
    load_engine,
    run_worker,
    scenario_main,
)
from _nodes import first, wiring

if TYPE_CHECKING:
    import argparse

    from _harness import Recorder

NAME = "scale_dag"
TITLE = "random layered DAG: build, SequentialRunner run, peak memory"
FREE_INPUTS = 10
TARGET_RUN_S = 1.0
TARGET_GROWTH = 1.5
SMALL, LARGE = 2000, 20000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dag-sizes",
        type=int,
        nargs="+",
        default=[SMALL, LARGE],
        help="DAG sizes for dagloop and the floor",
    )
    parser.add_argument(
        "--kedro-dag-sizes",
        type=int,
        nargs="+",
        default=[1000, SMALL],
        help="DAG sizes for Kedro (20,000 takes Kedro ~14 min per repetition)",
    )


# ------------------------------------------------------------------ worker side


def _maxrss_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _engine_build(engine: Any, specs: list[tuple[list[str], str]]) -> Any:
    p = engine.pipeline
    return p.Pipeline(
        [
            p.node(first, inputs, out, name=f"n{i}")
            for i, (inputs, out) in enumerate(specs)
        ]
    )


def _engine_run(engine: Any, pipe: Any) -> Any:
    catalog = engine.io.DataCatalog(
        {f"raw_{i}": engine.io.MemoryDataset(i) for i in range(FREE_INPUTS)}
    )
    return engine.runner.SequentialRunner().run(pipe, catalog)


def _floor_build(
    specs: list[tuple[list[str], str]],
) -> list[tuple[Any, list[str], str]]:
    producers = {out: (inputs, out) for inputs, out in specs}
    graph = {out: [i for i in inputs if i in producers] for inputs, out in specs}
    order = graphlib.TopologicalSorter(graph).static_order()
    return [(first, *producers[name]) for name in order]


def _floor_run(plan: list[tuple[Any, list[str], str]]) -> dict[str, Any]:
    data: dict[str, Any] = {f"raw_{i}": i for i in range(FREE_INPUTS)}
    for func, inputs, out in plan:
        data[out] = func(*[data[name] for name in inputs])
    return data


def worker(engine_name: str, size: int) -> dict[str, float]:
    """One measurement in this fresh interpreter (run with ``--worker``)."""
    configure_logging()
    specs = wiring(size)
    if engine_name == "floor":
        build: Any = _floor_build
        run: Any = _floor_run
    else:
        engine = load_engine(engine_name)
        configure_logging()

        def build(specs: list[tuple[list[str], str]]) -> Any:
            return _engine_build(engine, specs)

        def run(pipe: Any) -> Any:
            return _engine_run(engine, pipe)

    run(build(wiring(50)))  # warm-up: lazy imports, first-call caches
    gc.collect()
    baseline = _maxrss_mib()
    gc.disable()  # as in every timing of the suite (see _harness.timed)
    start = time.perf_counter()
    pipe = build(specs)
    built = time.perf_counter()
    out = run(pipe)
    ran = time.perf_counter()
    gc.enable()
    peak = _maxrss_mib()
    if engine_name == "floor":
        check(len(out) == size + FREE_INPUTS, "floor DAG")
    else:
        check(all(name.startswith("d") for name in out), f"{engine_name} DAG")
    return {
        "build": built - start,
        "run": ran - built,
        "peak": peak - baseline,
        "maxrss": peak,
    }


# ------------------------------------------------------------------ parent side


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    names = engine_names(rec)
    sizes = {name: list(args.dag_sizes) for name in ("dagloop", "floor")}
    if "kedro" in names:
        sizes["kedro"] = list(args.kedro_dag_sizes)
        if max(args.kedro_dag_sizes) < max(args.dag_sizes):
            rec.note(
                f"Kedro is measured at {', '.join(f'{s:,}' for s in args.kedro_dag_sizes)} "
                f"nodes only: its per-node cost grows with N (20,000 nodes take ~14 min "
                "per repetition). Force the full sizes with --kedro-dag-sizes 2000 20000."
            )
    rec.note(
        "Each measurement runs in a fresh interpreter; peak memory = ru_maxrss after "
        "the run minus ru_maxrss before the build (after imports and a warm-up)."
    )
    order = ["dagloop", "kedro", "floor"]
    all_sizes = sorted({s for name in sizes for s in sizes[name]})
    for rep in range(1, args.reps + 1):
        for size in all_sizes:
            for name in order:
                if size not in sizes.get(name, []):
                    continue
                data = run_worker(Path(__file__), name, size)
                config = f"{size:,} nodes"
                rec.add(name, config, "build", data["build"], "s")
                rec.add(name, config, "run", data["run"], "s")
                rec.add(name, config, "run per node", data["run"] / size * 1e6, "µs")
                rec.add(name, config, "peak memory", data["peak"], "MiB")
                print(
                    f"  rep {rep}/{args.reps}  {name:<8} {config:<14} build "
                    f"{fmt(data['build'])} s, run {fmt(data['run'])} s, "
                    f"peak +{fmt(data['peak'])} MiB",
                    flush=True,
                )

    for size in all_sizes:
        config = f"{size:,} nodes"
        for metric in ("build", "run"):
            rec.ratio(
                f"dagloop / floor, {metric}, {config}",
                ("dagloop", config, metric),
                ("floor", config, metric),
            )
            rec.ratio(
                f"Kedro / dagloop, {metric}, {config}",
                ("kedro", config, metric),
                ("dagloop", config, metric),
            )
    small, large = min(args.dag_sizes), max(args.dag_sizes)
    if SMALL in args.dag_sizes and LARGE in args.dag_sizes:
        small, large = SMALL, LARGE
    per_node = {
        size: rec.median("dagloop", f"{size:,} nodes", "run per node")
        for size in (small, large)
    }
    growth = None
    if per_node[small] and per_node[large] and small != large:
        growth = rec.ratio(
            f"dagloop per-node run cost, {large:,} / {small:,} nodes",
            ("dagloop", f"{large:,} nodes", "run per node"),
            ("dagloop", f"{small:,} nodes", "run per node"),
        )
    if "kedro" in sizes and len(args.kedro_dag_sizes) > 1:
        ks, kl = min(args.kedro_dag_sizes), max(args.kedro_dag_sizes)
        rec.ratio(
            f"Kedro per-node run cost, {kl:,} / {ks:,} nodes",
            ("kedro", f"{kl:,} nodes", "run per node"),
            ("kedro", f"{ks:,} nodes", "run per node"),
        )
    rec.target(
        f"run of the {LARGE:,}-node DAG",
        rec.median("dagloop", f"{LARGE:,} nodes", "run"),
        TARGET_RUN_S,
        "s",
    )
    rec.target(
        f"per-node run cost at {large:,} / at {small:,}", growth, TARGET_GROWTH, TIMES
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]))))
    else:
        scenario_main(NAME, TITLE, add_arguments, measure)
