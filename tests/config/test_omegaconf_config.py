"""dagloop.config.OmegaConfigLoader: Kedro's configuration rules, checked against
Kedro's own loader on the same folders, and its errors."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import pytest
from kedro.config import MissingConfigException as KedroMissingConfig
from kedro.config import OmegaConfigLoader as KedroLoader

from dagloop.config import BadConfigException, MissingConfigException, OmegaConfigLoader

if TYPE_CHECKING:
    from pathlib import Path

# Kedro's loader calls OmegaConf's register_new_resolver, deprecated in 2.4.
pytestmark = pytest.mark.filterwarnings(
    "ignore:register_new_resolver\\(\\) is deprecated:UserWarning"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


PROJECT = {
    "conf/base/catalog.yml": """
_csv: &csv
  type: pandas.CSVDataset
  load_args: {sep: ","}
cars:
  <<: *csv
  filepath: ${globals:paths.raw}/cars.csv
"{name}_report":
  type: json.JSONDataset
  filepath: ${globals:paths.out}/{name}.json
""",
    "conf/base/catalog/more_catalog.yml": """
boats:
  type: pickle.PickleDataset
  filepath: ${globals:paths.raw}/boats.pkl
""",
    "conf/base/globals.yml": """
paths:
  raw: data/01_raw
  out: data/08_reporting
""",
    "conf/base/parameters.yml": """
_defaults:
  rate: 0.1
model:
  rate: ${_defaults.rate}
  layers: [8, 4]
  options: {seed: 1, fast: false}
split: ${runtime_params:split, 0.2}
""",
    "conf/base/parameters/extra_parameters.yml": """
features: [a, b]
""",
    "conf/local/parameters.yml": """
split: 0.3
""",
    "conf/prod/parameters.yml": """
model:
  rate: 0.5
""",
    "conf/prod/globals.yml": """
paths:
  raw: s3://bucket/raw
  out: s3://bucket/out
""",
    "conf/local/credentials.yml": """
db:
  user: ${oc.env:DAGLOOP_TEST_USER, nobody}
""",
    "conf/base/.hidden/catalog.yml": """
ghost:
  type: text.TextDataset
  filepath: ghost.txt
""",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(tmp_path, PROJECT)


@pytest.mark.parametrize(
    ("env", "runtime_params"),
    [
        (None, None),
        ("prod", None),
        (None, {"split": 0.4, "model": {"layers": [2]}}),
        ("prod", {"model": {"options": {"fast": True}}}),
    ],
)
@pytest.mark.parametrize("key", ["catalog", "parameters", "credentials", "globals"])
def test_the_same_configuration_as_kedros_loader(
    project: Path, env: str | None, runtime_params: Any, key: str
) -> None:
    ours = OmegaConfigLoader(project / "conf", env, runtime_params)
    if key == "parameters" and runtime_params:
        # dagloop lays runtime params over the final parameters, nested key by
        # nested key; Kedro merges them into each folder's parameters before
        # conf/<env> replaces conf/base's top-level keys, so --params
        # model.layers=[2] loses model.rate when conf/local redefines model (a
        # documented difference, docs/cli.md).
        kedro = _kedro(project, env, None)
        expected = _nested_update(kedro[key], runtime_params)
    else:
        try:
            expected = _kedro(project, env, runtime_params)[key]
        except KedroMissingConfig:
            expected = {}  # Kedro raises for a key no file has; dagloop: empty
    assert ours[key] == expected


def _kedro(project: Path, env: str | None, runtime_params: Any) -> Any:
    return KedroLoader(
        str(project / "conf"),
        env=env,
        runtime_params=runtime_params,
        base_env="base",
        default_run_env="local",
    )


def _nested_update(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _nested_update(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_credentials_may_read_environment_variables(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLOOP_TEST_USER", "ada")
    assert OmegaConfigLoader(project / "conf")["credentials"] == {"db": {"user": "ada"}}


def test_oc_env_outside_credentials_is_refused_naming_the_file(
    project: Path,
) -> None:
    write(project, {"conf/base/parameters_env.yml": "home: ${oc.env:HOME}\n"})
    with pytest.raises(BadConfigException, match=r"parameters_env\.yml: the `oc\.env`"):
        OmegaConfigLoader(project / "conf")["parameters"]


def test_a_yaml_error_names_the_file_line_and_column(project: Path) -> None:
    write(project, {"conf/base/catalog.yml": "cars:\n  type: [oops\n"})
    with pytest.raises(BadConfigException) as info:
        OmegaConfigLoader(project / "conf")["catalog"]
    assert f"{project / 'conf/base/catalog.yml'}, line 3, column 1" in str(info.value)


def test_two_files_defining_one_key_is_an_error(project: Path) -> None:
    write(project, {"conf/base/catalog_two.yml": "cars:\n  type: x\n"})
    with pytest.raises(BadConfigException, match=r"Duplicate keys found in .*: cars"):
        OmegaConfigLoader(project / "conf")["catalog"]


def test_a_missing_global_says_which(project: Path) -> None:
    write(project, {"conf/base/parameters_g.yml": "x: ${globals:nope}\n"})
    with pytest.raises(BadConfigException, match="Globals key 'nope' not found"):
        OmegaConfigLoader(project / "conf")["parameters"]


def test_a_named_environment_must_exist_the_default_need_not(tmp_path: Path) -> None:
    write(tmp_path, {"conf/base/parameters.yml": "a: 1\n"})
    assert OmegaConfigLoader(tmp_path / "conf")["parameters"] == {"a": 1}
    with pytest.raises(MissingConfigException, match="no environment 'prod'"):
        OmegaConfigLoader(tmp_path / "conf", env="prod")
    with pytest.raises(MissingConfigException, match="elsewhere/base"):
        OmegaConfigLoader(tmp_path / "elsewhere")


def test_soft_merge_keeps_the_bases_nested_keys(project: Path) -> None:
    soft = OmegaConfigLoader(
        project / "conf", "prod", merge_strategy={"parameters": "soft"}
    )
    assert soft["parameters"]["model"] == {
        "rate": 0.5,
        "layers": [8, 4],
        "options": {"seed": 1, "fast": False},
    }
    assert OmegaConfigLoader(project / "conf", "prod")["parameters"]["model"] == {
        "rate": 0.5
    }


def test_it_tells_which_file_defines_an_entry(project: Path) -> None:
    loader = OmegaConfigLoader(project / "conf")
    loader["catalog"]
    assert loader.source("catalog", "boats") == (
        project / "conf/base/catalog/more_catalog.yml"
    )
    assert loader.source("catalog", "nothing") is None


def test_two_loaders_in_two_threads_keep_their_runtime_params_apart(
    project: Path,
) -> None:
    results: dict[float, Any] = {}
    barrier = threading.Barrier(8)

    def load(split: float) -> None:
        barrier.wait()
        loader = OmegaConfigLoader(project / "conf", "prod", {"split": split})
        write_free = loader["parameters"]
        results[split] = write_free["split"]

    threads = [threading.Thread(target=load, args=(i / 10,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i / 10: i / 10 for i in range(8)}


def test_it_still_works_after_kedros_loader_replaced_the_resolvers(
    project: Path,
) -> None:
    # Kedro's loader registers its own resolvers and removes oc.env, process-wide.
    _kedro(project, None, {"split": 0.9})["parameters"]
    os.environ.pop("DAGLOOP_TEST_USER", None)
    ours = OmegaConfigLoader(project / "conf", "prod", {"split": 0.7})
    assert ours["parameters"]["split"] == 0.7
    assert ours["credentials"] == {}  # prod has no credentials; base has none
    assert OmegaConfigLoader(project / "conf")["credentials"] == {
        "db": {"user": "nobody"}
    }


@pytest.mark.parametrize(
    "spelling", ["${oc.env:HOME}", "${ oc.env:HOME}", "${oc.env :HOME}"]
)
def test_oc_env_is_refused_outside_credentials_however_spelled(
    project: Path, spelling: str
) -> None:
    write(project, {"conf/base/parameters_env.yml": f"home: {spelling}\n"})
    with pytest.raises(BadConfigException, match="only supported for credentials"):
        OmegaConfigLoader(project / "conf")["parameters"]


def test_two_parameter_files_may_add_keys_to_one_mapping(project: Path) -> None:
    # As Kedro: for parameters, only the same nested key twice is a duplicate.
    write(project, {"conf/base/parameters_more.yml": "model:\n  depth: 3\n"})
    assert OmegaConfigLoader(project / "conf")["parameters"]["model"] == {
        "rate": 0.1,
        "layers": [8, 4],
        "options": {"seed": 1, "fast": False},
        "depth": 3,
    }
    write(project, {"conf/base/parameters_clash.yml": "model:\n  rate: 0.9\n"})
    with pytest.raises(BadConfigException, match=r"Duplicate keys .*: model\.rate"):
        OmegaConfigLoader(project / "conf")["parameters"]


def test_a_kedro_loader_in_the_same_process_keeps_working(project: Path) -> None:
    # OmegaConf's resolvers are process-wide: dagloop's are in place only while
    # it resolves, and Kedro's are put back after.
    kedro = _kedro(project, None, {"split": 0.9})
    assert OmegaConfigLoader(project / "conf")["catalog"]["cars"]["filepath"] == (
        "data/01_raw/cars.csv"
    )
    assert kedro["catalog"]["cars"]["filepath"] == "data/01_raw/cars.csv"
    assert kedro["parameters"]["split"] == 0.9  # its own runtime params
