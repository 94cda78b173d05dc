"""``dagloop run``: every option, on a small project in ``tmp_path``.

The project's pipeline (``nodes.py``) is make -> double -> total: ``make``
turns ``params:start`` into ``numbers`` (saved as JSON), ``double`` gives
``doubled`` (kept in memory), ``total`` sums it times ``params:scale`` into
``total`` (saved as JSON). With the default parameters (start 1, scale 10)
the total is (2 + 4 + 6) * 10 = 120.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.cli._project import CATALOG, ProjectDir

ALL = ["make", "double", "total"]


# ------------------------------------------------------------ which pipeline


def test_a_pipeline_named_by_module_and_attribute_runs(project: ProjectDir) -> None:
    project.ok("run", "--pipeline", "nodes:PIPELINE")

    assert project.ran() == ALL
    assert project.data("numbers.json") == [1, 2, 3]
    assert project.data("total.json") == 120


def test_a_function_returning_a_pipeline_is_called(project: ProjectDir) -> None:
    project.ok("run", "--pipeline", "nodes:create_pipeline")

    assert project.ran() == ALL
    assert project.data("total.json") == 120


def test_the_installed_dagloop_script_runs_a_pipeline(project: ProjectDir) -> None:
    result = project.run("run", "-p", "nodes:PIPELINE", script=True)

    assert result.code == 0, result
    assert project.ran() == ALL
    assert project.data("total.json") == 120


@pytest.fixture
def registry_project(project: ProjectDir) -> ProjectDir:
    """``[tool.dagloop] pipelines`` names a registry in a src/ package."""
    project.write(
        "pyproject.toml",
        """\
        [project]
        name = "shop"
        version = "0"

        [tool.dagloop]
        pipelines = "shop.pipeline_registry"
        """,
    )
    project.write("src/shop/__init__.py", "")
    project.write(
        "src/shop/pipeline_registry.py",
        """\
        from nodes import create_pipeline


        def register_pipelines():
            everything = create_pipeline()
            return {
                "__default__": everything,
                "ingest": everything.only_nodes_with_tags("ingest"),
            }
        """,
    )
    return project


def test_without_pipeline_the_registry_default_runs(
    registry_project: ProjectDir,
) -> None:
    registry_project.ok("run")

    assert registry_project.ran() == ALL
    assert registry_project.data("total.json") == 120


def test_pipeline_names_a_pipeline_of_the_registry(
    registry_project: ProjectDir,
) -> None:
    registry_project.ok("run", "--pipeline", "ingest")

    assert registry_project.ran() == ["make"]
    assert not (registry_project.root / "data" / "total.json").exists()


# ------------------------------------------------------------- configuration


def test_conf_source_reads_another_configuration_folder(project: ProjectDir) -> None:
    project.write("settings/base/catalog.yml", CATALOG)
    project.write("settings/base/parameters.yml", "start: 5\nscale: 1\n")

    project.ok("run", "-p", "nodes:PIPELINE", "--conf-source", "settings")

    assert project.data("total.json") == 10 + 12 + 14


def test_the_local_environment_overrides_base_by_default(project: ProjectDir) -> None:
    project.write("conf/local/parameters.yml", "scale: 2\n")

    project.ok("run", "-p", "nodes:PIPELINE")

    assert project.data("total.json") == 12 * 2


def test_env_chooses_the_environment_over_base(project: ProjectDir) -> None:
    project.write("conf/local/parameters.yml", "scale: 2\n")
    project.write("conf/prod/parameters.yml", "scale: 3\n")

    project.ok("run", "-p", "nodes:PIPELINE", "--env", "prod")

    assert project.data("total.json") == 12 * 3  # local is not read


# ------------------------------------------------------------------- runners


@pytest.mark.parametrize(
    ("runner", "placement"),
    [
        ("SequentialRunner", "inline"),
        ("ThreadRunner", "thread"),
        ("ParallelRunner", "process"),
        ("dagloop.runner.ThreadRunner", "thread"),
    ],
)
def test_runner_chooses_where_nodes_run(
    project: ProjectDir, runner: str, placement: str
) -> None:
    result = project.ok("run", "-p", "nodes:PIPELINE", "--runner", runner)

    assert sorted(project.ran()) == sorted(ALL)
    assert project.data("total.json") == 120
    for name in ALL:
        assert re.search(rf"node '{name}' finished in .* \({placement}\)", result.err)


def test_runner_takes_a_dotted_path_to_a_project_runner_class(
    project: ProjectDir,
) -> None:
    project.write(
        "runners.py",
        """\
        from dagloop.runner import SequentialRunner
        from nodes import ran


        class AnnouncingRunner(SequentialRunner):
            def __init__(self, **options):
                ran("AnnouncingRunner")
                super().__init__(**options)
        """,
    )

    project.ok("run", "-p", "nodes:PIPELINE", "--runner", "runners.AnnouncingRunner")

    assert project.ran() == ["AnnouncingRunner", *ALL]


OVERLAP = '''\
"""Three independent nodes; each records when it starts and when it ends."""

import threading

from dagloop.pipeline import node, pipeline
from nodes import ran

meeting = threading.Barrier(2, timeout=30)


def work(name):
    def run():
        ran(f"start-{name}")
        ran(f"end-{name}")
        return name
    return run


def meet(name):
    def run():
        meeting.wait()  # returns only once both nodes are running at once
        ran(name)
        return name
    return run


INDEPENDENT = pipeline(
    [node(work(n), None, f"out_{n}", name=n) for n in ("a", "b", "c")]
)
MEETING = pipeline([node(meet(n), None, f"out_{n}", name=n) for n in ("a", "b")])
'''


def test_max_workers_one_runs_one_node_at_a_time(project: ProjectDir) -> None:
    project.write("overlap.py", OVERLAP)

    project.ok(
        "run", "-p", "overlap:INDEPENDENT", "-r", "ThreadRunner", "--max-workers", "1"
    )

    ran = project.ran()
    assert sorted(ran) == sorted(f"{e}-{n}" for e in ("start", "end") for n in "abc")
    for start, end in zip(ran[::2], ran[1::2], strict=True):
        assert start.replace("start-", "end-") == end  # never two in flight


def test_max_workers_two_runs_two_nodes_at_once(project: ProjectDir) -> None:
    project.write("overlap.py", OVERLAP)

    project.ok(
        "run", "-p", "overlap:MEETING", "-r", "ThreadRunner", "--max-workers", "2"
    )

    assert sorted(project.ran()) == ["a", "b"]


def test_max_workers_one_gives_parallel_runner_one_process(
    project: ProjectDir,
) -> None:
    project.write(
        "pids.py",
        """\
        import os

        from dagloop.pipeline import node, pipeline
        from nodes import ran


        def pid(_name):
            ran(str(os.getpid()))
            return os.getpid()


        PIDS = pipeline(
            [node(pid, f"params:{n}", f"out_{n}", name=n) for n in ("start", "scale")]
        )
        """,
    )

    project.ok("run", "-p", "pids:PIDS", "-r", "ParallelRunner", "--max-workers", "1")

    first, second = project.ran()
    assert first == second


def test_async_loads_and_saves_concurrently(project: ProjectDir) -> None:
    sync = project.ok("-v", "run", "-p", "nodes:PIPELINE", "--no-progress")
    concurrent = project.ok("-v", "run", "-p", "nodes:PIPELINE", "--async")

    assert "Using synchronous mode for loading and saving data" in sync.err
    assert "Asynchronous mode is enabled for loading and saving data" in concurrent.err
    assert project.data("total.json") == 120


# -------------------------------------------------------------------- params


def test_params_are_typed_as_yaml_types_them(project: ProjectDir) -> None:
    project.write(
        "show.py",
        """\
        from dagloop.pipeline import node, pipeline


        def show(parameters, depth):
            return {"parameters": parameters, "depth": depth}


        SHOW = pipeline([node(show, ["parameters", "params:model.tree.depth"],
                              "shown", name="show")])
        """,
    )
    project.write(
        "conf/base/catalog.yml",
        "shown:\n  type: json.JSONDataset\n  filepath: data/shown.json\n",
    )
    project.write(
        "conf/base/parameters.yml",
        """\
        start: 1
        model:
          name: forest
          tree:
            depth: 3
        """,
    )

    project.ok(
        "run",
        "-p",
        "show:SHOW",
        "--params",
        "start=5,ratio=0.5,flag=true,label=abc,model.tree.depth=7,items=[1,2,x]",
    )

    shown = project.data("shown.json")
    assert shown["parameters"] == {
        "start": 5,
        "ratio": 0.5,
        "flag": True,
        "label": "abc",
        "model": {"name": "forest", "tree": {"depth": 7}},  # siblings kept
        "items": [1, 2, "x"],
    }
    assert shown["depth"] == 7


def test_params_override_a_parameter_a_node_reads(project: ProjectDir) -> None:
    project.ok("run", "-p", "nodes:PIPELINE", "--params", "start=10,scale=2")

    assert project.data("numbers.json") == [10, 11, 12]
    assert project.data("total.json") == (20 + 22 + 24) * 2


# ------------------------------------------------------------------- filters


@pytest.fixture
def saved(project: ProjectDir) -> ProjectDir:
    """``numbers`` and ``doubled`` saved, as an earlier run would leave them, so
    any node can run on its own."""
    project.write(
        "conf/base/catalog.yml",
        CATALOG + "doubled:\n  type: json.JSONDataset\n  filepath: data/doubled.json\n",
    )
    project.write("data/numbers.json", "[1, 2, 3]")
    project.write("data/doubled.json", "[2, 4, 6]")
    return project


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--tags", "prep", ["double", "total"]),
        ("--tags", "ingest,report", ["make", "total"]),
        ("--nodes", "make,total", ["make", "total"]),
        ("--from-nodes", "double", ["double", "total"]),
        ("--to-nodes", "double", ["make", "double"]),
        ("--from-inputs", "numbers", ["double", "total"]),
        ("--to-outputs", "numbers", ["make"]),
    ],
)
def test_filters_choose_the_nodes_that_run(
    saved: ProjectDir, option: str, value: str, expected: list[str]
) -> None:
    saved.ok("run", "-p", "nodes:PIPELINE", option, value)

    assert saved.ran() == expected


def test_filters_combine(saved: ProjectDir) -> None:
    saved.ok(
        "run", "-p", "nodes:PIPELINE", "--from-nodes", "double", "--tags", "report"
    )

    assert saved.ran() == ["total"]


def test_namespaces_run_only_the_nodes_in_them(project: ProjectDir) -> None:
    project.write(
        "spaces.py",
        """\
        from dagloop.pipeline import pipeline
        from nodes import create_pipeline

        TWO = pipeline(create_pipeline(), namespace="first") + pipeline(
            create_pipeline(), namespace="second",
            parameters={"start": "start", "scale": "scale"},
        )
        """,
    )

    project.ok("run", "-p", "spaces:TWO", "--namespaces", "second")

    assert project.ran() == ALL  # three nodes of six


def test_only_missing_outputs_skips_what_exists(project: ProjectDir) -> None:
    project.ok("run", "-p", "nodes:PIPELINE")
    assert project.ran() == ALL

    project.ok("run", "-p", "nodes:PIPELINE", "--only-missing-outputs")
    assert project.ran() == []

    (project.root / "data" / "total.json").unlink()
    project.ok("run", "-p", "nodes:PIPELINE", "--only-missing-outputs")
    assert project.ran() == ["double", "total"]  # doubled is not persisted
    assert project.data("total.json") == 120


def test_load_versions_loads_an_earlier_version(project: ProjectDir) -> None:
    project.write(
        "conf/base/catalog.yml",
        CATALOG.replace("data/numbers.json", "data/numbers.json\n  versioned: true"),
    )
    project.ok("run", "-p", "nodes:PIPELINE", "--params", "start=1")
    (first,) = (p.name for p in (project.root / "data" / "numbers.json").iterdir())
    project.ok("run", "-p", "nodes:PIPELINE", "--params", "start=5")
    assert project.data("total.json") == (10 + 12 + 14) * 10

    project.ok(
        "run",
        "-p",
        "nodes:PIPELINE",
        "--from-nodes",
        "double",
        "--load-versions",
        f"numbers:{first}",
    )

    assert project.data("total.json") == 120


# ------------------------------------------------------------------ progress


def test_progress_off_a_terminal_is_a_line_per_node(project: ProjectDir) -> None:
    result = project.ok("run", "-p", "nodes:PIPELINE")

    lines = [line for line in result.err.splitlines() if " node '" in line]
    assert [re.sub(r" finished in .*", "", line) for line in lines] == [
        "[1/3] node 'make'",
        "[2/3] node 'double'",
        "[3/3] node 'total'",
    ]
    assert "Run finished: 3 nodes" in result.err


def test_no_progress_prints_nothing_on_success(project: ProjectDir) -> None:
    result = project.ok("run", "-p", "nodes:PIPELINE", "--no-progress")

    assert result.out == ""
    assert result.err == ""


# ------------------------------------------------------------------- timeout

HANGING = """\
import threading

import anyio

from dagloop.pipeline import node, pipeline
from nodes import ran


async def wait_forever(_start):
    ran("wait_forever")
    await anyio.sleep_forever()


def block_forever(_start):
    ran("block_forever")
    threading.Event().wait()  # a thread cannot be interrupted


ASYNC = pipeline([node(wait_forever, "params:start", "never", name="wait_forever")])
BLOCKING = pipeline([node(block_forever, "params:start", "never", name="block_forever")])
"""


@pytest.mark.parametrize("node_name", ["wait_forever", "block_forever"])
def test_timeout_stops_the_run_with_exit_status_1(
    project: ProjectDir, node_name: str
) -> None:
    project.write("hanging.py", HANGING)
    spec = "hanging:ASYNC" if node_name == "wait_forever" else "hanging:BLOCKING"

    result = project.run("run", "-p", spec, "--timeout", "0.5")

    assert result.code == 1, result
    assert project.ran() == [node_name]
    assert "did not finish within its timeout of 0.5 s" in result.err
    assert "Traceback" not in result.err
    # The command returned: it did not wait for a thread that never ends.
    left_running = "a node's code in a thread cannot be stopped"
    assert (left_running in result.err) == (node_name == "block_forever")


# -------------------------------------------------------------- node failure

FAILING = """\
from pathlib import Path

from dagloop.pipeline import node, pipeline
from nodes import make, ran, total


def double(numbers):
    ran("double")
    if Path("broken").exists():
        raise ValueError(f"cannot double {numbers}")
    return [n * 2 for n in numbers]


PIPELINE = pipeline(
    [
        node(make, "params:start", "numbers", name="make"),
        node(double, "numbers", "doubled", name="double"),
        node(total, ["doubled", "params:scale"], "total", name="total"),
    ]
)
FIRST = pipeline([node(double, "params:start", "doubled", name="double")])
"""


def test_a_failed_node_gives_its_error_and_how_to_resume(project: ProjectDir) -> None:
    project.write("failing.py", FAILING)
    project.write("broken", "")

    result = project.run("run", "-p", "failing:PIPELINE", "--params", "start=1,x=a b")

    assert result.code == 1, result
    assert project.ran() == ["make", "double"]
    assert "Node 'double' failed: ValueError: cannot double [1, 2, 3]" in result.err
    # the node's traceback, from its own code: the engine's frames are left out
    assert (
        "Traceback (most recent call last):\n"
        f'  File "{project.root / "failing.py"}", line 10, in double\n'
    ) in result.err
    hint = result.err.splitlines()[-1].strip()
    assert hint == (
        "dagloop run -p failing:PIPELINE --params 'start=1,x=a b' "
        '--from-nodes "double"'
    )

    (project.root / "broken").unlink()
    project.ok(*shlex.split(hint)[1:])  # the hint, as a shell would split it

    assert project.ran() == ["double", "total"]
    assert project.data("total.json") == 120


def test_a_failure_before_any_node_finished_says_to_run_again(
    project: ProjectDir,
) -> None:
    project.write("failing.py", FAILING)
    project.write("broken", "")

    result = project.run("run", "-p", "failing:FIRST")

    assert result.code == 1, result
    assert "Node 'double' failed: ValueError: cannot double 1" in result.err
    assert "No node finished, so there is nothing to resume from" in result.err
    assert "--from-nodes" not in result.err


def test_a_node_failing_in_a_worker_process_gives_its_error_and_how_to_resume(
    project: ProjectDir,
) -> None:
    project.write("failing.py", FAILING)
    project.write("broken", "")

    result = project.run("run", "-p", "failing:PIPELINE", "-r", "ParallelRunner")

    assert result.code == 1, result
    assert "Node 'double' failed: ValueError: cannot double [1, 2, 3]" in result.err
    assert "Traceback" not in result.err  # the worker's frames do not come back
    assert result.err.endswith(
        'dagloop run -p failing:PIPELINE -r ParallelRunner --from-nodes "double"\n'
    )


def test_a_missing_persisted_input_names_the_file_without_a_traceback(
    project: ProjectDir,
) -> None:
    result = project.run("run", "-p", "nodes:PIPELINE", "--from-nodes", "double")

    assert result.code == 1, result
    assert "Node 'double' failed: DatasetError: Failed while loading data" in result.err
    assert "No such file or directory: '" in result.err
    assert "/data/numbers.json'" in result.err  # anchored at the project
    assert "Traceback" not in result.err
