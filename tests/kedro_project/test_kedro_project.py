"""A real Kedro project runs with ``kedro run`` on dagloop's runners unchanged.

The project (see conftest.py and ``project/``) is the spaceflights tutorial in
small: CSV, Excel and Parquet raw data, a data_processing pipeline with one
``async def`` node, and a data_science pipeline reused under two namespaces that
saves versioned pickled models, JSON metrics and CSV predictions. Every run works
on a fresh copy of the pristine project, and its outputs must equal those of
Kedro's own SequentialRunner exactly: the pipelines are deterministic.

Kedro 1.1's runners cannot run an ``async def`` node (they would save the
coroutine object), so runs on Kedro's runners set ``SPACEFLIGHTS_WRAP_ASYNC_NODES``
and the project runs that node through ``asyncio.run``. dagloop's runners get the
project as it is.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from tests.kedro_project._kedro import KEDRO, kedro_env

if TYPE_CHECKING:
    from pathlib import Path

# Up to three kedro subprocesses in one test (kedro new and the reference run in
# fixtures, then the test's own run), each stopped after 120 s.
pytestmark = pytest.mark.timeout(360)

NAMESPACES = ["active_modelling_pipeline", "candidate_modelling_pipeline"]
NODES = [
    "preprocess_companies_node",
    "preprocess_shuttles_node",
    "enrich_companies_node",
    "create_model_input_table_node",
    *(
        f"{namespace}.{node}"
        for namespace in NAMESPACES
        for node in ("split_data_node", "train_model_node", "evaluate_model_node")
    ),
]
ASYNC_NODE = "enrich_companies_node"
KEDRO_NODE_CLASS = "kedro.pipeline.node.Node"

DAGLOOP_RUNNERS = ["SequentialRunner", "ThreadRunner", "ParallelRunner"]
RUNS = [
    pytest.param([], id="kedro-SequentialRunner"),
    pytest.param(["--runner=ThreadRunner"], id="kedro-ThreadRunner"),
    *(
        pytest.param(
            [f"--runner=dagloop.runner.{runner}", *flags],
            id=f"dagloop-{runner}{'-async' if flags else ''}",
        )
        for runner in DAGLOOP_RUNNERS
        for flags in ([], ["--async"])
    ),
    # A Dask cluster of the run's own (a LocalCluster of worker processes).
    pytest.param(["--runner=dagloop.runner.DaskRunner"], id="dagloop-DaskRunner"),
]


@dataclass
class KedroRun:
    """What one ``kedro run`` left behind."""

    project: Path
    output: str  # stdout and stderr together
    hooks: list[dict[str, Any]]  # the project hooks' records, in order

    def calls(self, hook: str) -> list[dict[str, Any]]:
        return [record for record in self.hooks if record["hook"] == hook]


def on_dagloop(args: list[str] | tuple[str, ...]) -> bool:
    return any(arg.startswith("--runner=dagloop.") for arg in args)


def kedro_run(pristine: Path, workdir: Path, *args: str) -> KedroRun:
    """Run ``kedro run *args`` in a fresh copy of ``pristine`` under ``workdir``."""
    project = workdir / "project"
    shutil.copytree(pristine, project)
    hooks_log = workdir / "hooks.jsonl"
    env = kedro_env(SPACEFLIGHTS_HOOKS_LOG=str(hooks_log))
    if not on_dagloop(args):
        env["SPACEFLIGHTS_WRAP_ASYNC_NODES"] = "1"
    completed = subprocess.run(
        [KEDRO, "run", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    command = " ".join(["kedro", "run", *args])
    assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}"
    # No file at all if the project's hooks were never called.
    lines = hooks_log.read_text("utf-8").splitlines() if hooks_log.exists() else []
    return KedroRun(project, completed.stdout, [json.loads(line) for line in lines])


def load_outputs(project: Path) -> dict[str, Any]:
    """Every dataset the pipelines saved to disk, read back without Kedro."""
    data = project / "data"
    outputs: dict[str, Any] = {
        name: pd.read_parquet(data / "02_intermediate" / f"{name}.parquet")
        for name in ("preprocessed_companies", "preprocessed_shuttles")
    }
    outputs["model_input_table"] = pd.read_parquet(
        data / "03_primary" / "model_input_table.parquet"
    )
    for namespace in NAMESPACES:
        (version,) = (data / "06_models" / namespace / "regressor.pickle").iterdir()
        with (version / "regressor.pickle").open("rb") as model:
            outputs[f"{namespace}.regressor"] = pickle.load(model)
        outputs[f"{namespace}.predictions"] = pd.read_csv(
            data / "07_model_output" / namespace / "predictions.csv"
        )
        metrics = data / "08_reporting" / namespace / "metrics.json"
        outputs[f"{namespace}.metrics"] = json.loads(metrics.read_text("utf-8"))
    return outputs


def assert_same_outputs(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(actual[name], value, obj=name)
        elif name.endswith(".regressor"):
            assert actual[name]["features"] == value["features"]
            assert actual[name]["intercept"] == value["intercept"]
            np.testing.assert_array_equal(
                actual[name]["coefficients"], value["coefficients"], err_msg=name
            )
        else:
            assert actual[name] == value, name


def progress_lines(output: str) -> dict[str, Any]:
    """The runner's progress log lines, in a form independent of node order."""
    return {
        "completed_nodes": sorted(re.findall(r"Completed node: (\S+)", output)),
        "task_counts": re.findall(r"Completed (\d+) out of (\d+) tasks", output),
        "success": re.findall(r"Pipeline execution completed successfully", output),
    }


def assert_hooks_fired_once_per_node(run: KedroRun) -> None:
    """Project hooks saw each node once, as Kedro's Node, all with the run's id."""
    (pipeline_run,) = run.calls("before_pipeline_run")
    for hook in ("before_node_run", "after_node_run"):
        calls = run.calls(hook)
        assert Counter(call["node"] for call in calls) == Counter(NODES), hook
        assert {call["node_class"] for call in calls} == {KEDRO_NODE_CLASS}, hook
        assert {call["run_id"] for call in calls} == {pipeline_run["run_id"]}, hook
    saved = run.calls("after_dataset_saved")
    assert {call["node_class"] for call in saved} == {KEDRO_NODE_CLASS}


def saved_datasets(run: KedroRun) -> Counter[tuple[str, str]]:
    return Counter(
        (call["node"], call["dataset"]) for call in run.calls("after_dataset_saved")
    )


@dataclass
class Reference:
    """Kedro's SequentialRunner's run: the outputs and logs every run must match."""

    run: KedroRun
    outputs: dict[str, Any]


@pytest.fixture(scope="module")
def reference(
    kedro_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    run = kedro_run(kedro_project, tmp_path_factory.mktemp("reference"))
    assert_hooks_fired_once_per_node(run)
    progress = progress_lines(run.output)
    assert progress["completed_nodes"] == sorted(NODES)
    total = str(len(NODES))
    assert progress["task_counts"] == [
        (str(i), total) for i in range(1, len(NODES) + 1)
    ]
    assert len(progress["success"]) == 1
    return Reference(run, load_outputs(run.project))


@pytest.mark.parametrize("args", RUNS)
def test_kedro_run_matches_kedro_sequential_runner(
    kedro_project: Path, reference: Reference, tmp_path: Path, args: list[str]
) -> None:
    run = kedro_run(kedro_project, tmp_path, *args)

    assert_same_outputs(load_outputs(run.project), reference.outputs)
    assert progress_lines(run.output) == progress_lines(reference.run.output)
    assert_hooks_fired_once_per_node(run)
    assert saved_datasets(run) == saved_datasets(reference.run)

    # The async node's result was awaited: a DataFrame reached the catalog, and on
    # dagloop the node ran as the project wrote it, an ``async def`` function.
    (before_async,) = [
        c for c in run.calls("before_node_run") if c["node"] == ASYNC_NODE
    ]
    (after_async,) = [c for c in run.calls("after_node_run") if c["node"] == ASYNC_NODE]
    assert after_async["output_types"] == {"enriched_companies": "DataFrame"}
    assert before_async["coroutine_function"] is on_dagloop(args)
