"""How ``dagloop run`` reads ``conf/``, as Kedro's OmegaConfigLoader does.

``show`` runs one node that saves the values of the inputs it is given to
``data/shown.json``: what a node receives is read back from there.
"""

from __future__ import annotations

from typing import Any

from tests.cli._project import PARAMETERS, ProjectDir


def show(project: ProjectDir, *inputs: str, args: tuple[str, ...] = ()) -> Any:
    """Run a node whose inputs are ``inputs``; return the values it received."""
    project.write(
        "show.py",
        f"""\
        from dagloop.pipeline import node, pipeline


        def show(*values):
            return list(values)


        SHOW = pipeline([node(show, {list(inputs)!r}, "shown", name="show")])
        """,
    )
    project.write(
        "conf/base/catalog_shown.yml",
        "shown:\n  type: json.JSONDataset\n  filepath: data/shown.json\n",
    )
    project.ok("run", "-p", "show:SHOW", *args)
    return project.data("shown.json")


def test_parameters_are_inputs_named_as_in_kedro(project: ProjectDir) -> None:
    project.write(
        "conf/base/parameters.yml",
        """\
        rate: 0.1
        model:
          name: forest
          tree:
            depth: 3
        """,
    )

    shown = show(
        project,
        "parameters",
        "params:rate",
        "params:model",
        "params:model.tree",
        "params:model.tree.depth",
    )

    model = {"name": "forest", "tree": {"depth": 3}}
    assert shown == [{"rate": 0.1, "model": model}, 0.1, model, {"depth": 3}, 3]


def test_files_matching_the_patterns_are_read_in_subfolders_too(
    project: ProjectDir,
) -> None:
    project.write("conf/base/parameters_extra.yml", "extra: 1\n")
    project.write("conf/base/parameters/model.yml", "model: 2\n")
    project.write("conf/base/pipelines/prep/parameters.yml", "prep: 3\n")
    project.write("conf/base/notes/readme.yml", "ignored: 4\n")  # matches no pattern
    project.write("conf/base/.hidden/parameters.yml", "hidden: 5\n")
    project.write(
        "conf/local/catalogs/catalog_outputs.yml",
        "total:\n  type: json.JSONDataset\n  filepath: data/elsewhere.json\n",
    )

    shown = show(project, "parameters")
    project.ok("run", "-p", "nodes:PIPELINE")

    assert shown == [{"start": 1, "scale": 10, "extra": 1, "model": 2, "prep": 3}]
    assert project.data("elsewhere.json") == 120


def test_the_environment_replaces_a_top_level_key_of_base(
    project: ProjectDir,
) -> None:
    project.write(
        "conf/base/parameters.yml",
        "model:\n  depth: 3\n  name: forest\nrate: 0.1\n",
    )
    project.write("conf/local/parameters.yml", "model:\n  depth: 5\nnew: true\n")

    shown = show(project, "parameters")

    assert shown == [{"model": {"depth": 5}, "rate": 0.1, "new": True}]


def test_interpolation_and_templates(project: ProjectDir) -> None:
    project.write(
        "conf/base/parameters.yml",
        """\
        _defaults:
          depth: 3
        start: 1
        scale: ${start}
        label: run-${start}
        model: ${_defaults}
        """,
    )
    project.write(
        "conf/base/catalog.yml",
        """\
        _json:
          type: json.JSONDataset
        _folder: data/out
        total:
          type: ${_json.type}
          filepath: ${_folder}/total.json
        """,
    )

    shown = show(project, "parameters")
    project.ok("run", "-p", "nodes:PIPELINE")
    listed = project.ok("list", "-p", "nodes:PIPELINE").out

    # parameters keep their _ keys, as Kedro's do; the catalog's are templates
    assert shown == [
        {
            "_defaults": {"depth": 3},
            "start": 1,
            "scale": 1,
            "label": "run-1",
            "model": {"depth": 3},
        }
    ]
    assert project.data("out/total.json") == 12
    assert "_json" not in listed
    assert "_folder" not in listed
    assert "total  dagloop.io.json_dataset.JSONDataset" in listed


def test_globals_fill_catalog_and_parameters(project: ProjectDir) -> None:
    project.write("conf/base/globals.yml", "folder: data/base\nstart: 5\n")
    project.write("conf/local/globals.yml", "folder: data/local\n")
    project.write(
        "conf/base/catalog.yml",
        "total:\n  type: json.JSONDataset\n  filepath: ${globals:folder}/total.json\n",
    )
    project.write(
        "conf/base/parameters.yml",
        "start: ${globals:start}\nscale: ${globals:scale, 7}\n",
    )

    project.ok("run", "-p", "nodes:PIPELINE")

    # local's globals.yml replaces folder, and start is base's
    assert project.data("local/total.json") == (10 + 12 + 14) * 7


def test_runtime_params_fill_interpolations_and_override_parameters(
    project: ProjectDir,
) -> None:
    project.write(
        "conf/base/catalog.yml",
        "total:\n  type: json.JSONDataset\n"
        "  filepath: data/${runtime_params:run, first}/total.json\n",
    )
    project.write(
        "conf/base/parameters.yml",
        PARAMETERS + "label: ${runtime_params:label, none}\n",
    )

    project.ok("run", "-p", "nodes:PIPELINE")
    shown = show(project, "params:label", "params:scale", args=("--params", "scale=2"))
    project.ok("run", "-p", "nodes:PIPELINE", "--params", "run=second,scale=2")

    assert project.data("first/total.json") == 120
    assert shown == ["none", 2]
    assert project.data("second/total.json") == 24


TOKEN_DATASET = """\
import json
from pathlib import Path

from dagloop.io import AbstractDataset


class TokenDataset(AbstractDataset):
    \"\"\"Saves its data with the token from its credentials.\"\"\"

    def __init__(self, filepath, credentials):
        self._path = Path(filepath)
        self._token = credentials["token"]

    def _save(self, data):
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps({"data": data, "token": self._token}))

    def _load(self):
        return json.loads(self._path.read_text())["data"]

    def _describe(self):
        return {"filepath": str(self._path)}
"""


def test_credentials_reach_datasets_and_may_read_the_environment(
    project: ProjectDir,
) -> None:
    project.write("shopdatasets.py", TOKEN_DATASET)
    project.write(
        "conf/base/catalog.yml",
        """\
        total:
          type: shopdatasets.TokenDataset
          filepath: data/total.json
          credentials: shop_api
        """,
    )
    project.write(
        "conf/local/secrets/credentials.yml",
        "shop_api:\n  token: ${oc.env:SHOP_TOKEN}\n",
    )

    result = project.run("run", "-p", "nodes:PIPELINE", env={"SHOP_TOKEN": "s3cret"})

    assert result.code == 0, result
    assert project.data("total.json") == {"data": 120, "token": "s3cret"}
