"""What ``dagloop run`` says when the user's project or command is wrong.

Each is one message naming the file, key, dataset or node, with exit status 2
and no Python traceback: nothing in dagloop failed. (A node's own failure,
exit status 1, is in ``test_run.py``.)
"""

from __future__ import annotations

import pytest

from tests.cli._project import CATALOG, ProjectDir, Result

USER_ERROR = 2


def user_error(project: ProjectDir, *args: str) -> Result:
    """``dagloop run -p nodes:PIPELINE ARGS``, which must fail as a user's error."""
    result = project.run("run", "-p", "nodes:PIPELINE", *args)
    assert result.code == USER_ERROR, result
    assert "Traceback" not in result.err, result
    assert result.out == "", result
    return result


def test_a_yaml_syntax_error_names_the_file_and_line(project: ProjectDir) -> None:
    path = project.write("conf/base/parameters.yml", "start: 1\nscale: [10, 20\n")

    result = user_error(project)

    assert f"Invalid YAML or JSON file {path}, line 3" in result.err
    assert project.ran() == []


def test_an_unknown_dataset_type_names_the_dataset_and_its_file(
    project: ProjectDir,
) -> None:
    path = project.write(
        "conf/local/catalog.yml",
        "total:\n  type: nowhere.MissingDataset\n  filepath: data/t.json\n",
    )

    result = user_error(project)

    assert "No module named 'nowhere'" in result.err
    assert f"(dataset 'total' is defined in {path})" in result.err
    assert project.ran() == []  # found before the first node ran


def test_a_missing_free_input_is_named(project: ProjectDir) -> None:
    project.write("conf/base/parameters.yml", "start: 1\n")  # no scale

    result = user_error(project)

    assert (
        "Pipeline input(s) {'params:scale'} not found in the DataCatalog" in result.err
    )
    assert project.ran() == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--nodes", "make,nope", "Pipeline does not contain nodes named ['nope']."),
        ("--from-nodes", "nope", "Pipeline does not contain nodes named ['nope']."),
        ("--from-inputs", "nope", "Pipeline does not contain datasets named ['nope']"),
        ("--tags", "nope", "Pipeline contains no nodes after applying all provided"),
    ],
)
def test_a_filter_that_selects_nothing_is_named(
    project: ProjectDir, option: str, value: str, message: str
) -> None:
    result = user_error(project, option, value)

    assert message in result.err


def test_an_unknown_runner_lists_the_known_ones(project: ProjectDir) -> None:
    result = user_error(project, "--runner", "FastRunner")

    assert (
        "Unknown runner 'FastRunner': use one of DaskRunner, ParallelRunner, "
        "SequentialRunner, ThreadRunner, or a dotted path to a runner class"
    ) in result.err


def test_a_dotted_path_that_is_not_a_runner_is_refused(project: ProjectDir) -> None:
    result = user_error(project, "--runner", "nodes.make")

    assert "nodes.make is not a dagloop runner class" in result.err


def test_max_workers_for_the_sequential_runner_is_refused(
    project: ProjectDir,
) -> None:
    result = user_error(project, "--max-workers", "2")

    assert "SequentialRunner takes no 'max_workers' option" in result.err


def test_a_key_in_two_files_of_one_folder_names_both(project: ProjectDir) -> None:
    again = project.write("conf/base/model/parameters.yml", "scale: 3\n")
    first = project.root / "conf/base/parameters.yml"  # start, scale

    result = user_error(project)

    # Files are read in path order: model/parameters.yml comes first.
    assert f"Duplicate keys found in {again} and {first}: scale" in result.err


def test_oc_env_outside_credentials_is_refused(project: ProjectDir) -> None:
    path = project.write("conf/base/catalog.yml", CATALOG + "x: ${oc.env:HOME}\n")

    result = user_error(project)

    assert (
        f"{path}: the `oc.env` resolver is only supported for credentials"
    ) in result.err


def test_an_unknown_environment_is_named(project: ProjectDir) -> None:
    result = user_error(project, "--env", "prod")

    assert "no environment 'prod' under" in result.err


def test_a_missing_configuration_folder_is_named(project: ProjectDir) -> None:
    result = user_error(project, "--conf-source", "settings")

    assert str(project.root / "settings" / "base") in result.err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nowhere:PIPELINE",
            "Cannot import the pipeline nowhere:PIPELINE: no module named 'nowhere'",
        ),
        ("nodes:MISSING", "Module nodes has no attribute 'MISSING'"),
        ("nodes:make", "nodes:make takes arguments"),
        ("nodes:CATALOG_TEXT", "nodes:CATALOG_TEXT is a str, not a Pipeline"),
        ("everything", "No pipeline registry to find 'everything' in"),
    ],
)
def test_a_pipeline_that_cannot_be_found_is_named(
    project: ProjectDir, spec: str, message: str
) -> None:
    project.write(
        "nodes.py",
        (project.root / "nodes.py").read_text("utf-8") + "CATALOG_TEXT = 'x'\n",
    )

    result = project.run("run", "--pipeline", spec)

    assert result.code == USER_ERROR, result
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_pipeline_module_that_fails_to_import_names_the_line(
    project: ProjectDir,
) -> None:
    path = project.write("broken.py", "import os\n\nPIPELINE = undefined_name\n")

    result = project.run("run", "--pipeline", "broken:PIPELINE")

    assert result.code == USER_ERROR, result
    assert "Error: NameError: name 'undefined_name' is not defined" in result.err
    assert (
        "(raised while importing broken, the pipeline broken:PIPELINE, "
        f"at {path}, line 3)"
    ) in result.err
    assert "Traceback" not in result.err


def test_no_pipeline_and_no_registry_says_how_to_name_one(
    project: ProjectDir,
) -> None:
    result = project.run("run")

    assert result.code == USER_ERROR, result
    assert '[tool.dagloop] pipelines = "package.pipeline_registry"' in result.err, (
        result
    )


def test_a_name_missing_from_the_registry_lists_the_names(
    project: ProjectDir,
) -> None:
    project.write("pyproject.toml", '[tool.dagloop]\npipelines = "registry"\n')
    project.write(
        "registry.py",
        """\
        from nodes import PIPELINE


        def register_pipelines():
            return {"__default__": PIPELINE, "daily": PIPELINE}
        """,
    )

    result = project.run("run", "--pipeline", "weekly")

    assert result.code == USER_ERROR, result
    assert (
        "No pipeline named 'weekly' in the registry; it has: __default__, daily"
        in result.err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--params", "start"), "'start' must be KEY=VALUE"),
        (("--load-versions", "numbers"), "'numbers' must be DATASET:VERSION"),
        (("--max-workers", "0"), "Invalid value for '--max-workers'"),
        (("--timeout", "0"), "Invalid value for '--timeout'"),
        (("--bogus",), "No such option '--bogus'"),
    ],
)
def test_a_malformed_option_is_a_usage_error(
    project: ProjectDir, args: tuple[str, ...], message: str
) -> None:
    result = user_error(project, *args)

    assert message in result.err
    assert "Try 'dagloop run --help' for help." in result.err


def test_dagloop_traceback_shows_the_traceback_of_a_user_error(
    project: ProjectDir,
) -> None:
    project.write("conf/base/parameters.yml", "start: [\n")

    result = project.run("run", "-p", "nodes:PIPELINE", env={"DAGLOOP_TRACEBACK": "1"})

    assert result.code == USER_ERROR, result
    assert "Traceback (most recent call last)" in result.err
    assert "Error: BadConfigException: Invalid YAML" in result.err
