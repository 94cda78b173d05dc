"""dagloop.framework.project.Project in process: what the command builds on."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest

from dagloop.framework.project import Project, ProjectError
from dagloop.runner import ParallelRunner, SequentialRunner, ThreadRunner

if TYPE_CHECKING:
    from pathlib import Path


def make_project(root: Path, package: str, value: int) -> Path:
    (root / "conf/base").mkdir(parents=True)
    (root / "conf/base/catalog.yml").write_text(
        "result:\n  type: json.JSONDataset\n  filepath: data/result.json\n", "utf-8"
    )
    (root / "conf/base/parameters.yml").write_text(f"value: {value}\n", "utf-8")
    (root / "src" / package).mkdir(parents=True)
    (root / "src" / package / "__init__.py").write_text("", "utf-8")
    (root / "src" / package / "pipes.py").write_text(
        "from dagloop.pipeline import node, pipeline\n"
        "def double(x):\n    return {'doubled': x * 2}\n"
        "def make():\n"
        "    return pipeline([node(double, 'params:value', 'result', name='double')])\n",
        "utf-8",
    )
    return root


@pytest.fixture
def clean_modules(tmp_path: Path) -> object:
    """Forget the projects' modules and folders after the test."""
    path = list(sys.path)
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    sys.path[:] = path


@pytest.mark.usefixtures("clean_modules")
def test_relative_paths_are_the_projects_wherever_python_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "proj", "alpha_pkg", 21)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    project = Project(root)
    SequentialRunner().run(project.pipeline("alpha_pkg.pipes:make"), project.catalog())

    assert json.loads((root / "data/result.json").read_text("utf-8")) == {"doubled": 42}
    assert not (elsewhere / "data").exists()


@pytest.mark.usefixtures("clean_modules")
def test_a_second_project_with_the_same_package_name_is_refused(
    tmp_path: Path,
) -> None:
    first = Project(make_project(tmp_path / "a", "same_pkg", 1))
    second = Project(make_project(tmp_path / "b", "same_pkg", 2))
    first.pipeline("same_pkg.pipes:make")
    with pytest.raises(ProjectError, match=r"already imported from .*a/src/same_pkg"):
        second.pipeline("same_pkg.pipes:make")


def test_runner_options_are_checked_by_name() -> None:
    assert isinstance(Project.runner("ThreadRunner", max_workers=2), ThreadRunner)
    with pytest.raises(ProjectError, match="SequentialRunner takes no 'max_workers'"):
        Project.runner("SequentialRunner", max_workers=2)
    with pytest.raises(ProjectError, match="Unknown runner 'Fast'"):
        Project.runner("Fast")


@pytest.mark.usefixtures("clean_modules")
def test_parallel_runner_gets_a_shared_memory_catalog(tmp_path: Path) -> None:
    project = Project(make_project(tmp_path / "p", "gamma_pkg", 3))
    runner = Project.runner("ParallelRunner")
    assert isinstance(runner, ParallelRunner)
    assert hasattr(project.catalog(runner=runner), "validate_catalog")
