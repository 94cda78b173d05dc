"""Pipeline-model benchmark: build a layered random DAG and query it.

Measures, for dagloop and (when installed) Kedro 1.1, interleaved: constructing the
nodes, building the ``Pipeline`` (validation and cycle check included), and the
queries a runner makes (``nodes`` order, ``inputs()``, ``outputs()``,
``node_dependencies``). Sizes default to 2,000 and 20,000 nodes.

    python benchmarks/bench_pipeline_build.py --sizes 2000 20000 --reps 5
"""

from __future__ import annotations

import argparse
import importlib
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import Measurement, timed, write_report

if TYPE_CHECKING:
    from types import ModuleType


def identity(*args: Any) -> Any:
    return args[0] if args else None


def wiring(size: int, seed: int = 7) -> list[tuple[list[str], str]]:
    """A layered random DAG: each node reads 1-3 outputs of the previous layers."""
    rng = random.Random(seed)
    layer_width = max(1, int(size**0.5))
    specs: list[tuple[list[str], str]] = []
    for i in range(size):
        layer_start = (i // layer_width) * layer_width
        if layer_start == 0:
            inputs = [f"raw_{i % 10}"]
        else:
            inputs = sorted(
                {f"d{rng.randrange(layer_start)}" for _ in range(rng.randint(1, 3))}
            )
        specs.append((inputs, f"d{i}"))
    return specs


def make_nodes(module: ModuleType, specs: list[tuple[list[str], str]]) -> list[Any]:
    return [
        module.node(identity, inputs, output, name=f"n{i}")
        for i, (inputs, output) in enumerate(specs)
    ]


def query(pipe: Any) -> Any:
    """What a runner asks of a pipeline before running it."""
    return pipe.nodes, pipe.inputs(), pipe.outputs(), pipe.node_dependencies


def engine_modules() -> dict[str, ModuleType]:
    engines = {"dagloop": importlib.import_module("dagloop.pipeline")}
    try:
        engines["kedro"] = importlib.import_module("kedro.pipeline")
    except ImportError:
        print(
            "kedro is not installed: measuring dagloop only (pip install 'dagloop[bench]')"
        )
    return engines


def measure(size: int, reps: int) -> list[Measurement]:
    specs = wiring(size)
    engines = engine_modules()
    results: dict[tuple[str, str], Measurement] = {}

    def record(engine: str, metric: str, seconds: float) -> None:
        key = (engine, metric)
        if key not in results:
            results[key] = Measurement(f"pipeline_build_{size}", engine, metric, "s")
        results[key].values.append(seconds)

    for _ in range(reps):
        for engine, module in engines.items():
            seconds, nodes = timed(make_nodes, module, specs)
            record(engine, "make nodes", seconds)
            seconds, pipe = timed(module.Pipeline, nodes)
            record(engine, "build Pipeline", seconds)
            seconds, _ = timed(query, pipe)
            record(engine, "order+inputs+outputs+deps", seconds)
    return list(results.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "out" / "pipeline_build"
    )
    args = parser.parse_args()
    results: list[Measurement] = []
    for size in args.sizes:
        results.extend(measure(size, args.reps))
    for m in results:
        per_node = m.median / int(m.scenario.rsplit("_", 1)[1]) * 1e6
        print(
            f"{m.scenario:>22} {m.engine:>8} {m.metric:>28}: {m.median * 1000:9.1f} ms"
            f"  ({per_node:6.1f} us/node)"
        )
    print("table:", write_report(results, args.out, "Pipeline build benchmark"))


if __name__ == "__main__":
    main()
