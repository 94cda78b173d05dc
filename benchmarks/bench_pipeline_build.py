"""pipeline_build: build a layered random DAG and query it.

Measures, for dagloop and (when installed) Kedro 1.1, interleaved: constructing the
nodes, building the ``Pipeline`` (validation and cycle check included), and the
queries a runner makes (``nodes`` order, ``inputs()``, ``outputs()``,
``node_dependencies``). Sizes default to 2,000 and 20,000 nodes; the DAG is the one
of scale_dag (``_nodes.wiring``).

    python benchmarks/bench_pipeline_build.py --sizes 2000 20000 --reps 5
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _harness import Case, engines, interleave, scenario_main, timed
from _nodes import wiring

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

    from _harness import Engine, Recorder, Row

NAME = "pipeline_build"
TITLE = "making nodes, building a Pipeline, and a runner's queries"
DEFAULT_REPS = 5
PHASES = ("make nodes", "build Pipeline", "order+inputs+outputs+deps")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--build-sizes",
        "--sizes",
        dest="sizes",
        type=int,
        nargs="+",
        default=[2000, 20000],
        help="DAG sizes",
    )


def identity(*args: Any) -> Any:
    return args[0] if args else None


def make_nodes(module: ModuleType, specs: list[tuple[list[str], str]]) -> list[Any]:
    return [
        module.node(identity, inputs, output, name=f"n{i}")
        for i, (inputs, output) in enumerate(specs)
    ]


def query(pipe: Any) -> Any:
    """What a runner asks of a pipeline before running it."""
    return pipe.nodes, pipe.inputs(), pipe.outputs(), pipe.node_dependencies


def engine_case(engine: Engine, size: int) -> Case:
    specs = wiring(size)
    module = engine.pipeline

    def run() -> list[Row]:
        made, nodes = timed(make_nodes, module, specs)
        built, pipe = timed(module.Pipeline, nodes)
        queried, _ = timed(query, pipe)
        return [
            (phase, seconds * 1000, "ms")
            for phase, seconds in zip(PHASES, (made, built, queried), strict=True)
        ]

    def warmup() -> None:
        module.Pipeline(make_nodes(module, wiring(50)))

    return Case(engine.name, f"{size:,} nodes", run, warmup)


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    found = engines(rec)
    for size in args.sizes:
        interleave(rec, [engine_case(engine, size) for engine in found], args.reps)
    for size in args.sizes:
        for phase in PHASES:
            rec.ratio(
                f"Kedro / dagloop, {phase}, {size:,} nodes",
                ("kedro", f"{size:,} nodes", phase),
                ("dagloop", f"{size:,} nodes", phase),
            )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure, default_reps=DEFAULT_REPS)
