"""dagloop.io.DataCatalog against Kedro 1.1's, on random configs and operations.

Both catalogs get the same configuration (plain entries, dataset factory patterns,
a catch-all, credentials) and the same sequence of operations; every answer,
repr, log message and error must match once Kedro's module paths are read as
dagloop's. The dataset class used in configs subclasses Kedro's own
``AbstractDataset``, which dagloop accepts through the dataset protocol.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, ClassVar

import kedro.io as kio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dagloop.io as dio

MODULE = __name__


class RecordDataset(kio.AbstractDataset):
    """A dataset that keeps data in a class-level store keyed by ``path``."""

    store: ClassVar[dict[str, Any]] = {}

    def __init__(
        self, path: str, credentials: Any = None, versioned: Any = None
    ) -> None:
        self._path = path
        self._credentials = credentials

    def load(self) -> Any:
        return self.store[self._path]

    def save(self, data: Any) -> None:
        self.store[self._path] = data

    def _exists(self) -> bool:
        return self._path in self.store

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}


RECORD = f"{MODULE}.RecordDataset"

ENTRIES: dict[str, dict[str, Any]] = {
    "plain": {"type": RECORD, "path": "plain"},
    "memory": {"type": "MemoryDataset"},
    "kedro_memory": {"type": "kedro.io.MemoryDataset"},
    "secret": {"type": RECORD, "path": "secret", "credentials": "creds"},
    "{name}_rec": {"type": RECORD, "path": "{name}"},
    "{a}.{b}": {"type": RECORD, "path": "{b}/{a}"},
    "{x}": {"type": RECORD, "path": "catch/{x}"},
    "{y}@other": {"type": "MemoryDataset"},
}
# Entries that fail when first built. Kedro then forgets the entry; dagloop keeps
# it so the next access reports the same error (docs/kedro-compatibility.md), so
# they are compared on their own below rather than in random sequences.
BROKEN: dict[str, dict[str, Any]] = {
    "broken": {"type": "NoSuchDatasetType"},
    "bad_args": {"type": RECORD, "nope": 1},
}
NAMES = [
    "plain", "memory", "kedro_memory", "secret", "cars_rec", "x.y.z", "lonely",
    "t@other", "broken", "bad_args", "missing_thing",
]  # fmt: skip


def normalise(value: Any) -> Any:
    text = str(value).replace("kedro.io.", "dagloop.io.").replace("kedro_datasets.", "")
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z", "<timestamp>", text)
    return text


def dataset_view(dataset: Any) -> Any:
    if dataset is None:
        return None
    return (type(dataset).__name__, normalise(repr(dataset)))


def run(
    module: Any, config: dict[str, Any], ops: list[tuple[str, str]], caplog: Any
) -> Any:
    RecordDataset.store.clear()
    results: list[Any] = []

    def attempt(func: Any) -> Any:
        caplog.clear()
        try:
            value = func()
        except Exception as exc:
            value = ("raised", type(exc).__name__, normalise(exc))
        logs = [
            (r.levelname, normalise(r.getMessage()))
            for r in caplog.records
            if r.levelno >= logging.INFO and "catalog_config_resolver" not in r.name
        ]
        return value, logs

    built = attempt(
        lambda: module.DataCatalog.from_config(config, {"creds": {"k": "v"}})
    )
    results.append(
        ("build", built[0] if isinstance(built[0], tuple) else "ok", built[1])
    )
    catalog = built[0]
    if isinstance(catalog, tuple):
        return results
    for op, name in ops:
        if op == "contains":
            results.append(attempt(lambda n=name: n in catalog))
        elif op == "get":
            results.append(attempt(lambda n=name: dataset_view(catalog.get(n))))
        elif op == "get_fallback":
            results.append(
                attempt(
                    lambda n=name: dataset_view(
                        catalog.get(n, fallback_to_runtime_pattern=True)
                    )
                )
            )
        elif op == "getitem":
            results.append(attempt(lambda n=name: dataset_view(catalog[n])))
        elif op == "setitem":
            results.append(attempt(lambda n=name: catalog.__setitem__(n, [1, 2])))
        elif op == "save":
            results.append(attempt(lambda n=name: catalog.save(n, {"v": n})))
        elif op == "load":
            results.append(attempt(lambda n=name: catalog.load(n)))
        elif op == "exists":
            results.append(attempt(lambda n=name: catalog.exists(n)))
        elif op == "release":
            results.append(attempt(lambda n=name: catalog.release(n)))
        elif op == "get_type":
            results.append(attempt(lambda n=name: normalise(catalog.get_type(n))))
        elif op == "filter":
            results.append(attempt(lambda n=name: catalog.filter(name_regex=n[:3])))
        elif op == "resolve":
            results.append(
                attempt(
                    lambda n=name: normalise(catalog.config_resolver.resolve_pattern(n))
                )
            )
        results.append(("keys", list(catalog.keys()), len(catalog)))
    results.append(("repr", attempt(lambda: normalise(repr(catalog)))))
    results.append(("patterns", catalog.config_resolver.list_patterns()))
    results.append(("to_config", attempt(lambda: normalise(catalog.to_config()))))
    return results


OPS = [
    "contains", "get", "get_fallback", "getitem", "setitem", "save", "load",
    "exists", "release", "get_type", "filter", "resolve",
]  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    keys = draw(st.lists(st.sampled_from(sorted(ENTRIES)), unique=True, max_size=7))
    config = {key: ENTRIES[key] for key in keys}
    ops = draw(
        st.lists(st.tuples(st.sampled_from(OPS), st.sampled_from(NAMES)), max_size=12)
    )
    return config, ops


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


@settings(
    max_examples=int(os.environ.get("DAGLOOP_PARITY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_same_catalog_same_answers(
    scenario: tuple[dict[str, Any], list[tuple[str, str]]], info_logs: Any
) -> None:
    config, ops = scenario
    expected = run(kio, config, ops, info_logs)
    actual = run(dio, config, ops, info_logs)
    assert actual == expected


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_entries_fail_alike_on_first_access(name: str) -> None:
    errors = []
    for module in (kio, dio):
        catalog = module.DataCatalog.from_config(BROKEN)
        with pytest.raises(Exception) as caught:
            catalog[name]
        errors.append((type(caught.value).__name__, normalise(caught.value)))
    assert errors[0] == errors[1]
    catalog = dio.DataCatalog.from_config(BROKEN)
    for _ in range(2):
        with pytest.raises(dio.DatasetError, match=name):
            catalog[name]
    assert catalog.keys().count(name) == 1


def test_runtime_pattern_registers_memory_datasets() -> None:
    """What a runner's warm-up relies on: undeclared names become MemoryDatasets."""
    for module in (kio, dio):
        catalog = module.DataCatalog()
        assert "undeclared" not in catalog
        dataset = catalog.get("undeclared", fallback_to_runtime_pattern=True)
        assert type(dataset).__name__ == "MemoryDataset"
        assert catalog.keys() == ["undeclared"]
        assert "undeclared" in catalog


@pytest.mark.parametrize(
    ("config", "credentials"),
    [
        ({"a": {"type": "x", "credentials": "c"}}, {"c": {"key": 1}}),
        ({"a": {"type": "x", "inner": {"credentials": "c"}}}, {"c": {"key": 1}}),
        ({"a": {"type": "x"}, "{p}_x": {"type": "y", "credentials": "c"}}, {"c": 1}),
        ({"a": {"type": "x", "credentials": {"inline": True}}}, None),
        ({"a": "not a mapping"}, {}),
        (None, None),
    ],
)
def test_the_resolvers_credential_helpers_answer_as_kedros(
    config: Any, credentials: Any
) -> None:
    # Kedro's private helpers, called by code that builds catalogs from config.
    import kedro.io.catalog_config_resolver as kedro_resolver

    import dagloop.io.catalog_config_resolver as dagloop_resolver

    def answer(module: Any) -> Any:
        resolver = module.CatalogConfigResolver
        try:
            resolved = resolver._resolve_credentials(config, credentials)
        except Exception as exc:
            return type(exc).__name__, str(exc)
        unresolved = [
            resolver._unresolve_credentials(name, entry)
            for name, entry in resolved.items()
        ]
        return resolved, unresolved

    assert answer(dagloop_resolver) == answer(kedro_resolver)
