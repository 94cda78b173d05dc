"""Tests for ``dagloop.utils`` and the package version."""

from __future__ import annotations

import importlib.metadata
import json
import math
import re

import pytest

import dagloop
from dagloop.pipeline import Node
from dagloop.utils import load_obj


class TestLoadObj:
    def test_loads_object_from_dotted_path(self):
        assert load_obj("math.sqrt") is math.sqrt

    def test_loads_object_from_nested_module(self):
        assert load_obj("dagloop.pipeline.node.Node") is Node

    def test_loads_module_attribute_that_is_a_module(self):
        assert load_obj("json.decoder") is json.decoder

    def test_name_without_module_uses_default_obj_path(self):
        assert load_obj("sqrt", default_obj_path="math") is math.sqrt

    def test_default_obj_path_is_ignored_when_path_has_a_module(self):
        assert load_obj("json.dumps", default_obj_path="math") is json.dumps

    def test_missing_attribute_raises_attribute_error(self):
        with pytest.raises(AttributeError, match="'no_such_object'"):
            load_obj("math.no_such_object")

    def test_missing_attribute_in_default_module_raises_attribute_error(self):
        with pytest.raises(AttributeError, match="'no_such_object'"):
            load_obj("no_such_object", default_obj_path="math")

    def test_missing_module_raises_module_not_found_error(self):
        with pytest.raises(ModuleNotFoundError) as excinfo:
            load_obj("no_such_module_for_dagloop_tests.thing")
        assert excinfo.value.name == "no_such_module_for_dagloop_tests"

    def test_missing_submodule_raises_module_not_found_error(self):
        with pytest.raises(ModuleNotFoundError) as excinfo:
            load_obj("dagloop.no_such_submodule.thing")
        assert excinfo.value.name == "dagloop.no_such_submodule"


class TestVersion:
    def test_version_is_a_string(self):
        assert isinstance(dagloop.__version__, str)

    def test_version_matches_installed_metadata(self):
        assert dagloop.__version__ == importlib.metadata.version("dagloop")

    def test_version_looks_like_a_release_number(self):
        assert re.match(r"\d+\.\d+", dagloop.__version__)
