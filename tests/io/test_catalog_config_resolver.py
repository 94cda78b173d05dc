"""Tests for ``dagloop.io.catalog_config_resolver``: dataset factory patterns."""

from __future__ import annotations

import copy
import logging

import pytest

from dagloop.io import CatalogConfigResolver, DatasetError

LOGGER = "dagloop.io.catalog_config_resolver"
RUNTIME = {"{default}": {"type": "dagloop.io.MemoryDataset"}}


def make_resolver(config=None, credentials=None):
    return CatalogConfigResolver(config, credentials, default_runtime_patterns=RUNTIME)


class TestCredentials:
    def test_credentials_are_resolved_in_plain_entries(self):
        resolver = make_resolver(
            {"cars": {"type": "MemoryDataset", "credentials": "db"}},
            {"db": {"user": "u", "password": "p"}},
        )
        assert resolver.config == {
            "cars": {
                "type": "MemoryDataset",
                "credentials": {"user": "u", "password": "p"},
            }
        }

    def test_nested_credentials_are_resolved(self):
        resolver = make_resolver(
            {
                "cars": {
                    "type": "MemoryDataset",
                    "fs_args": {"open_args": {"credentials": "inner"}},
                    "credentials": "outer",
                }
            },
            {"inner": {"token": "i"}, "outer": {"token": "o"}},
        )
        assert resolver.config["cars"] == {
            "type": "MemoryDataset",
            "fs_args": {"open_args": {"credentials": {"token": "i"}}},
            "credentials": {"token": "o"},
        }

    def test_non_string_credentials_are_kept(self):
        inline = {"token": "inline"}
        resolver = make_resolver(
            {"cars": {"type": "MemoryDataset", "credentials": inline}}
        )
        assert resolver.config["cars"]["credentials"] == inline

    def test_credentials_in_patterns_are_resolved(self):
        resolver = make_resolver(
            {"{name}_db": {"type": "MemoryDataset", "credentials": "db"}},
            {"db": {"user": "u"}},
        )
        assert resolver.resolve_pattern("cars_db") == {
            "type": "MemoryDataset",
            "credentials": {"user": "u"},
        }

    def test_missing_credentials(self):
        with pytest.raises(KeyError) as exc_info:
            make_resolver(
                {"cars": {"type": "MemoryDataset", "credentials": "missing"}},
                {"other": {}},
            )
        assert exc_info.value.args[0].startswith(
            "Unable to find credentials 'missing': check your data catalog and "
            "credentials configuration."
        )

    def test_missing_credentials_without_any_credentials(self):
        with pytest.raises(KeyError, match="Unable to find credentials 'db'"):
            make_resolver({"{a}_x": {"type": "MemoryDataset", "credentials": "db"}})

    def test_input_config_is_not_mutated(self):
        config = {"cars": {"type": "MemoryDataset", "credentials": "db"}}
        original = copy.deepcopy(config)
        make_resolver(config, {"db": {"user": "u"}})
        assert config == original


class TestEntries:
    def test_plain_entries_and_patterns_are_split(self):
        resolver = make_resolver(
            {"cars": {"type": "MemoryDataset"}, "{name}_csv": {"type": "MemoryDataset"}}
        )
        assert resolver.config == {"cars": {"type": "MemoryDataset"}}
        assert resolver.list_patterns() == ["{name}_csv", "{default}"]

    def test_config_is_a_mutable_dict(self):
        resolver = make_resolver({"cars": {"type": "MemoryDataset"}})
        resolver.config.pop("cars")
        assert resolver.config == {}

    @pytest.mark.parametrize("entry", ["a string", 3, ["list"], None])
    def test_non_dict_entry_is_rejected(self, entry):
        with pytest.raises(DatasetError) as exc_info:
            make_resolver({"cars": entry})
        assert str(exc_info.value) == (
            "Catalog entry 'cars' is not a valid dataset configuration. \n"
            "Hint: If this catalog entry is intended for variable interpolation, "
            "make sure that the key is preceded by an underscore."
        )

    def test_empty_config(self):
        for resolver in (make_resolver(), make_resolver({})):
            assert resolver.config == {}
            assert resolver.list_patterns() == ["{default}"]

    @pytest.mark.parametrize(
        ("name", "expected"),
        [("{name}_csv", True), ("{default}", True), ("cars", False), ("a}", False)],
    )
    def test_is_pattern(self, name, expected):
        assert CatalogConfigResolver.is_pattern(name) is expected


class TestPatternValidation:
    @pytest.mark.parametrize(
        "config",
        [
            {"type": "MemoryDataset", "filepath": "{nam}.csv"},
            {"type": "MemoryDataset", "args": {"nested": ["x", "{nam}"]}},
            {"type": "MemoryDataset", "args": ("{nam}",)},
        ],
    )
    def test_unknown_placeholder_is_rejected(self, config):
        with pytest.raises(DatasetError) as exc_info:
            make_resolver({"{name}_csv": config})
        assert str(exc_info.value) == (
            "Incorrect dataset configuration provided. Keys used in the "
            "configuration {'{nam}'} should present in the dataset pattern name "
            "{name}_csv."
        )

    def test_known_placeholders_are_fine(self):
        resolver = make_resolver(
            {
                "{ns}.{name}_csv": {
                    "type": "MemoryDataset",
                    "filepath": "{ns}/{name}.csv",
                }
            }
        )
        assert resolver.list_patterns()[0] == "{ns}.{name}_csv"


class TestSorting:
    def test_patterns_sorted_by_specificity_placeholders_then_name(self):
        resolver = make_resolver(
            {
                "{namespace}.{name}": {"type": "MemoryDataset"},
                "{name}": {"type": "MemoryDataset"},
                "{namespace}.int_{name}{a}": {"type": "MemoryDataset"},
                "{namespace}.ant_{name}{c}": {"type": "MemoryDataset"},
                "{x}_y": {"type": "MemoryDataset"},
                "{x}{z}_y": {"type": "MemoryDataset"},
            }
        )
        assert resolver.list_patterns() == [
            "{namespace}.ant_{name}{c}",
            "{namespace}.int_{name}{a}",
            "{x}{z}_y",
            "{x}_y",
            "{namespace}.{name}",
            "{name}",
            "{default}",
        ]

    def test_most_specific_pattern_wins(self):
        resolver = make_resolver(
            {
                "{name}_csv": {"type": "MemoryDataset", "metadata": {"m": "generic"}},
                "{name}_cars_csv": {"type": "MemoryDataset", "metadata": {"m": "cars"}},
            }
        )
        assert resolver.match_dataset_pattern("big_cars_csv") == "{name}_cars_csv"
        assert resolver.resolve_pattern("big_cars_csv")["metadata"] == {"m": "cars"}
        assert resolver.match_dataset_pattern("planes_csv") == "{name}_csv"

    def test_multiple_catch_alls_are_rejected(self):
        with pytest.raises(DatasetError) as exc_info:
            make_resolver(
                {
                    "{b}": {"type": "MemoryDataset"},
                    "{a}": {"type": "MemoryDataset"},
                    "{a}_x": {"type": "MemoryDataset"},
                }
            )
        assert str(exc_info.value) == (
            "Multiple catch-all patterns found in the catalog: {a}, {b}. Only one "
            "catch-all pattern is allowed, remove the extras."
        )

    def test_catch_all_is_split_off(self):
        resolver = make_resolver(
            {
                "{anything}": {"type": "MemoryDataset"},
                "{a}_x": {"type": "MemoryDataset"},
            }
        )
        assert resolver.match_dataset_pattern("foo") is None
        assert resolver.match_dataset_pattern("foo_x") == "{a}_x"
        assert resolver.match_user_catch_all_pattern("foo") == "{anything}"

    def test_user_pattern_named_like_a_runtime_pattern_is_listed_once(self):
        resolver = make_resolver({"{default}": {"type": "MemoryDataset"}})
        assert resolver.list_patterns() == ["{default}"]

    def test_several_runtime_patterns(self):
        resolver = CatalogConfigResolver(
            {"{a}_x": {"type": "MemoryDataset"}},
            default_runtime_patterns={
                "{default}": {"type": "MemoryDataset"},
                "{other}_rt": {"type": "MemoryDataset"},
            },
        )
        assert resolver.list_patterns() == ["{a}_x", "{default}", "{other}_rt"]


class TestMatching:
    def test_no_match(self):
        resolver = make_resolver({"{name}_csv": {"type": "MemoryDataset"}})
        assert resolver.match_dataset_pattern("cars") is None
        assert resolver.match_user_catch_all_pattern("cars") is None

    def test_match_is_on_the_whole_name(self):
        resolver = make_resolver({"{name}_csv": {"type": "MemoryDataset"}})
        assert resolver.match_dataset_pattern("cars_csv_backup") is None
        assert resolver.match_dataset_pattern("cars_csv") == "{name}_csv"

    def test_fixed_characters_match_case_insensitively(self):
        resolver = make_resolver(
            {"{name}_csv": {"type": "MemoryDataset", "filepath": "{name}.csv"}}
        )
        assert resolver.match_dataset_pattern("Cars_CSV") == "{name}_csv"
        assert resolver.resolve_pattern("Cars_CSV")["filepath"] == "Cars.csv"

    def test_runtime_pattern_always_matches(self):
        resolver = make_resolver()
        assert resolver.match_runtime_pattern("anything at all") == "{default}"


class TestResolvePattern:
    def test_plain_entry(self):
        resolver = make_resolver({"cars": {"type": "MemoryDataset", "data": 1}})
        assert resolver.resolve_pattern("cars") == {"type": "MemoryDataset", "data": 1}

    def test_placeholders_are_filled(self):
        resolver = make_resolver(
            {
                "{namespace}.int_{name}": {
                    "type": "MemoryDataset",
                    "filepath": "data/{namespace}/{name}.csv",
                    "load_args": {"sep": ",", "names": ["{name}", "x"]},
                    "tuple": ("{namespace}", 1),
                    "number": 3,
                    "open_brace_only": "a{b",
                }
            }
        )
        assert resolver.resolve_pattern("sales.int_cars") == {
            "type": "MemoryDataset",
            "filepath": "data/sales/cars.csv",
            "load_args": {"sep": ",", "names": ["cars", "x"]},
            "tuple": ["sales", 1],
            "number": 3,
            "open_brace_only": "a{b",
        }

    def test_first_placeholder_is_shortest(self):
        resolver = make_resolver(
            {"{a}.{b}": {"type": "MemoryDataset", "metadata": {"a": "{a}", "b": "{b}"}}}
        )
        assert resolver.resolve_pattern("x.y.z")["metadata"] == {"a": "x", "b": "y.z"}

    def test_pattern_config_is_copied(self):
        resolver = make_resolver(
            {
                "{name}_csv": {
                    "type": "MemoryDataset",
                    "load_args": {"names": ["{name}"]},
                }
            }
        )
        first = resolver.resolve_pattern("a_csv")
        first["load_args"]["names"].append("mutated")
        assert resolver.resolve_pattern("b_csv") == {
            "type": "MemoryDataset",
            "load_args": {"names": ["b"]},
        }

    def test_runtime_pattern_without_warning(self, caplog):
        resolver = make_resolver()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert resolver.resolve_pattern("anything") == {
                "type": "dagloop.io.MemoryDataset"
            }
        assert caplog.records == []

    def test_dataset_pattern_without_warning(self, caplog):
        resolver = make_resolver(
            {
                "{name}_csv": {"type": "MemoryDataset"},
                "{any}": {"type": "MemoryDataset"},
            }
        )
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            resolver.resolve_pattern("a_csv")
        assert caplog.records == []

    def test_user_catch_all_logs_a_warning(self, caplog):
        resolver = make_resolver(
            {"{any}": {"type": "MemoryDataset", "metadata": {"name": "{any}"}}}
        )
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert resolver.resolve_pattern("cars") == {
                "type": "MemoryDataset",
                "metadata": {"name": "cars"},
            }
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (
                LOGGER,
                logging.WARNING,
                "Config from the dataset pattern '{any}' in the catalog will be used "
                "to override the default dataset creation for 'cars'",
            )
        ]


class TestDefaultRuntimePatterns:
    def test_missing_runtime_patterns_log_a_warning(self, caplog):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            resolver = CatalogConfigResolver()
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (
                LOGGER,
                logging.WARNING,
                "Since runtime patterns are not provided, setting the runtime pattern "
                "to default value: {'{default}': {'type': 'dagloop.io.MemoryDataset'}}",
            )
        ]
        assert resolver.list_patterns() == ["{default}"]
        assert resolver.resolve_pattern("x") == {"type": "dagloop.io.MemoryDataset"}

    def test_given_runtime_patterns_do_not_warn(self, caplog):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            make_resolver()
        assert caplog.records == []


class TestUnresolveCredentials:
    def test_first_credentials_become_a_reference(self):
        config = {
            "type": "MemoryDataset",
            "fs_args": {"credentials": {"token": "t"}},
        }
        unresolved, credentials = CatalogConfigResolver._unresolve_credentials(
            "cars", config
        )
        assert unresolved == {
            "type": "MemoryDataset",
            "fs_args": {"credentials": "cars_credentials"},
        }
        assert credentials == {"cars_credentials": {"token": "t"}}
        assert config["fs_args"]["credentials"] == {"token": "t"}

    def test_no_credentials(self):
        unresolved, credentials = CatalogConfigResolver._unresolve_credentials(
            "cars", {"type": "MemoryDataset"}
        )
        assert unresolved == {"type": "MemoryDataset"}
        assert credentials == {}
