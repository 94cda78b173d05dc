"""A run's warm-up: every dataset the pipeline uses is registered in the catalog.

Undeclared datasets come from the catalog's runtime pattern. The common case (one
``{default}`` pattern without placeholders) builds them from one recipe per run;
these tests pin down that the shortcut gives what the general path gives: a fresh
instance per dataset with the pattern's arguments, placeholders filled per name,
and user patterns and config entries taking precedence.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from dagloop.io import DataCatalog, JSONDataset, MemoryDataset
from dagloop.pipeline import Pipeline, node
from tests.runner._nodes import make_runner


def _inc(x: int) -> int:
    return x + 1


def chain() -> Pipeline:
    return Pipeline(
        [
            node(_inc, "a", "b", name="one"),
            node(_inc, "b", "c", name="two"),
            node(_inc, "c", "d", name="three"),
        ]
    )


class AssigningCatalog(DataCatalog):
    """Runtime datasets with constructor arguments (a dict among them)."""

    default_runtime_patterns: ClassVar[dict[str, dict[str, Any]]] = {
        "{default}": {
            "type": "dagloop.io.MemoryDataset",
            "copy_mode": "assign",
            "metadata": {"origin": "runtime"},
        }
    }


class NamingCatalog(DataCatalog):
    """A runtime pattern whose entry uses the dataset's name."""

    default_runtime_patterns: ClassVar[dict[str, dict[str, Any]]] = {
        "{default}": {
            "type": "dagloop.io.MemoryDataset",
            "metadata": {"name": "{default}"},
        }
    }


# The warm-up is the same code for every runner; ParallelRunner's catalog
# (SharedMemoryDataCatalog) has runtime patterns of its own.
@pytest.fixture(params=["sequential", "thread"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_runtime_datasets_get_the_patterns_arguments_each_their_own(kind):
    catalog = AssigningCatalog({"a": MemoryDataset(1)})

    outputs = make_runner(kind).run(chain(), catalog)

    assert outputs["d"].load() == 4
    built = [catalog.get("b"), catalog.get("c"), catalog.get("d")]
    assert all(type(ds) is MemoryDataset for ds in built)
    assert all(ds._copy_mode == "assign" for ds in built)
    assert all(ds.metadata == {"origin": "runtime"} for ds in built)
    # Deep-copied arguments: no two datasets share the metadata dict.
    assert len({id(ds.metadata) for ds in built}) == 3


def test_a_runtime_pattern_with_placeholders_is_filled_per_name(kind):
    catalog = NamingCatalog({"a": MemoryDataset(1)})

    make_runner(kind).run(chain(), catalog)

    assert [catalog.get(n).metadata for n in ("b", "c", "d")] == [
        {"name": "b"},
        {"name": "c"},
        {"name": "d"},
    ]


def test_user_patterns_and_entries_come_before_the_runtime_pattern(kind, tmp_path):
    catalog = DataCatalog.from_config(
        {
            "{name}_json": {
                "type": "dagloop.io.JSONDataset",
                "filepath": str(tmp_path / "{name}.json"),
            },
            "c": {"type": "dagloop.io.JSONDataset", "filepath": str(tmp_path / "c")},
        }
    )
    catalog["a"] = 1
    pipe = Pipeline(
        [
            node(_inc, "a", "b_json", name="one"),
            node(_inc, "b_json", "c", name="two"),
            node(_inc, "c", "d", name="three"),
        ]
    )

    outputs = make_runner(kind).run(pipe, catalog)

    assert outputs["d"].load() == 4
    assert isinstance(catalog.get("b_json"), JSONDataset)
    assert json.loads((tmp_path / "b.json").read_text()) == 2
    assert json.loads((tmp_path / "c").read_text()) == 3
    assert type(catalog.get("d")) is MemoryDataset
