"""``dagloop list``, ``viz``, ``new``, ``--version`` and ``--help``."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import dagloop
from tests.cli._project import (
    CATALOG,
    COMMAND_TIMEOUT,
    ProjectDir,
    command_env,
)
from tests.cli._project import (
    dagloop as run_dagloop,
)

if TYPE_CHECKING:
    from pathlib import Path

PLACES = '''\
"""A node of each kind: where each runs shows in dagloop list."""

from dagloop.pipeline import node, pipeline


async def fetch(url):
    return url


def parse(page):
    return page


def crunch(parsed):
    return parsed


def report(crunched):
    return crunched


PLACES = pipeline(
    [
        node(fetch, "params:url", "page", name="fetch", tags=["io", "web"]),
        node(parse, "page", "parsed", name="parse", executor="thread"),
        node(crunch, "parsed", "crunched", name="crunch", executor="process"),
        node(report, "crunched", "total", name="report"),
    ]
)
'''


def test_list_shows_nodes_with_tags_and_where_they_run(project: ProjectDir) -> None:
    project.write("places.py", PLACES)

    result = project.ok("list", "--pipeline", "places:PLACES")

    assert result.out.splitlines()[:5] == [
        "Nodes (4):",
        "  fetch  [async, on the event loop]  tags: io, web",
        "  parse  [thread]",
        "  crunch  [process]",
        "  report  [the runner's choice]",
    ]


def test_list_shows_datasets_with_their_catalog_types(project: ProjectDir) -> None:
    result = project.ok("list", "-p", "nodes:PIPELINE")

    datasets = result.out.split("Datasets (5):\n")[1].splitlines()
    assert datasets == [
        "  doubled  MemoryDataset (not in the catalog)",
        "  numbers  dagloop.io.json_dataset.JSONDataset",
        "  params:scale  parameters",
        "  params:start  parameters",
        "  total  dagloop.io.json_dataset.JSONDataset",
    ]
    assert project.ran() == []  # listing runs nothing


def test_list_shows_an_entry_it_cannot_build_and_why(project: ProjectDir) -> None:
    project.write(
        "conf/base/catalog.yml",
        CATALOG + "doubled:\n  type: nowhere.MissingDataset\n",
    )

    result = project.ok("list", "-p", "nodes:PIPELINE")

    assert (
        "  doubled  nowhere.MissingDataset (cannot be built: DatasetError: "
        "No module named 'nowhere'"
    ) in result.out


def test_viz_draws_a_mermaid_flowchart_by_default(project: ProjectDir) -> None:
    result = project.ok("viz", "-p", "nodes:PIPELINE")

    assert result.out.startswith("flowchart LR\n")
    for name in ("make", "double", "total", "numbers", "params:scale"):
        assert f'"{name}"' in result.out


def test_viz_writes_an_html_page_to_a_file(project: ProjectDir) -> None:
    result = project.ok(
        "viz", "-p", "nodes:PIPELINE", "--format", "html", "--output", "pipeline.html"
    )

    page = (project.root / "pipeline.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>nodes:PIPELINE</title>" in page
    assert all(name in page for name in ("make", "double", "total"))
    assert result.out == ""
    assert result.err == "Wrote pipeline.html\n"


def test_viz_says_when_it_cannot_write_its_file(project: ProjectDir) -> None:
    result = project.run("viz", "-p", "nodes:PIPELINE", "-o", "missing/p.html")

    assert result.code == 2, result
    assert (
        "Error: FileNotFoundError: [Errno 2] No such file or directory: "
        "'missing/p.html'"
    ) in result.err
    assert "Traceback" not in result.err


def test_viz_refuses_an_unknown_format(project: ProjectDir) -> None:
    result = project.run("viz", "-p", "nodes:PIPELINE", "--format", "svg")

    assert result.code == 2, result
    assert "Invalid value for '--format'" in result.err


def test_a_new_project_runs_at_once_and_its_test_passes(tmp_path: Path) -> None:
    created = run_dagloop("new", "my-shop", cwd=tmp_path)
    assert created.code == 0, created
    assert "Created my-shop" in created.out
    root = tmp_path / "my-shop"

    ran = run_dagloop("run", cwd=root, script=True)
    assert ran.code == 0, ran
    assert (root / "data" / "report.txt").read_text("utf-8").endswith("mean: 41.43")

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


def test_new_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "notes.txt").write_text("mine")

    result = run_dagloop("new", "shop", cwd=tmp_path)

    assert result.code == 2, result
    assert "shop exists and is not empty" in result.err
    assert (tmp_path / "shop" / "notes.txt").read_text() == "mine"


def test_new_refuses_a_name_that_cannot_be_a_package(tmp_path: Path) -> None:
    result = run_dagloop("new", "1st", cwd=tmp_path)

    assert result.code == 2, result
    assert "'1st' cannot name a project" in result.err
    assert not (tmp_path / "1st").exists()


def test_version_is_the_package_version(tmp_path: Path) -> None:
    result = run_dagloop("--version", cwd=tmp_path, script=True)

    assert result.code == 0, result
    assert result.out == f"dagloop, version {dagloop.__version__}\n"


def test_python_m_dagloop_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_dagloop("--help", cwd=tmp_path)

    assert result.code == 0, result
    assert result.out.startswith("Usage: dagloop [OPTIONS] COMMAND [ARGS]...")
    commands = result.out.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in commands] == ["list", "new", "run", "viz"]


@pytest.mark.parametrize("missing", ["click", "omegaconf"])
def test_without_the_cli_extra_the_command_says_what_to_install(missing: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from dagloop.cli import main\n"
        "main(['run'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"dagloop's command line needs {missing}: pip install 'dagloop[cli]'"
    )
