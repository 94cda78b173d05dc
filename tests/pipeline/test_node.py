"""Tests for building ``Node`` objects: validation, naming, identity and copies."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from functools import partial, update_wrapper

import pytest

from dagloop.pipeline import GroupedNodes, Node, node
from dagloop.pipeline.node import (
    _dict_inputs_to_list,
    _get_readable_func_name,
    _to_list,
)

# --------------------------------------------------------------------- helpers


def identity(x):
    return x


def add(a, b):
    return a + b


def subtract(minuend, subtrahend):
    return minuend - subtrahend


def subtract_swapped(subtrahend, minuend):
    return minuend - subtrahend


def constant_output():
    return "constant"


def scale(value, factor):
    return value * factor


def collect(a, **kwargs):
    return a, kwargs


def keyword_only(a, *, b, c=0):
    return a + b + c


FORMAT_HINT = "\nFormat should be: node(function, inputs, outputs)"
PARTIAL_WARNING = (
    "The node producing outputs '['scaled']' is made from a 'partial' function. "
    "Partial functions do not have a '__name__' attribute: consider using "
    "'functools.update_wrapper' for better log messages."
)


def invalid_definition(detail):
    return f"Invalid Node definition: {detail}{FORMAT_HINT}"


def dotted_name_warning(name):
    return (
        f"Dataset name '{name}' contains '.' characters, which is not recommended "
        f"as the dot notation is reserved for automatic namespacing in Kedro. "
        f"Consider using a different naming convention."
    )


def expected_auto_name(func, inputs, outputs):
    """The documented recipe: ``<func>__`` + 8 hex chars of a sha256."""
    key = f"{func.__module__}.{func.__name__}|{inputs}|{outputs}"
    return f"{func.__name__}__{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def build_without_warnings(*args, **kwargs):
    """Build a node and fail if doing so emitted any warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = node(*args, **kwargs)
    assert [str(w.message) for w in caught] == []
    return built


# ------------------------------------------------------------------- building


class TestConstruction:
    def test_node_factory_builds_a_node(self):
        built = node(identity, "x", "y", name="n", tags="t", confirms="c")
        assert isinstance(built, Node)
        assert built == Node(identity, "x", "y", name="n")
        assert built.func is identity
        assert built.tags == {"t"}
        assert built.confirms == ["c"]

    def test_options_are_keyword_only(self):
        with pytest.raises(TypeError):
            Node(identity, "x", "y", "name")

    def test_str_inputs_and_outputs(self):
        built = node(identity, "x", "y")
        assert built.inputs == ["x"]
        assert built.outputs == ["y"]

    def test_list_inputs_and_outputs(self):
        built = node(add, ["a", "b"], ["total"])
        assert built.inputs == ["a", "b"]
        assert built.outputs == ["total"]

    def test_dict_inputs_are_ordered_by_signature(self):
        built = node(subtract, {"subtrahend": "s", "minuend": "m"}, "out")
        assert built.inputs == ["m", "s"]

    def test_dict_inputs_route_extra_names_into_kwargs_last(self):
        built = node(collect, {"z": "zz", "a": "aa", "b": "bb"}, "out")
        assert built.inputs == ["aa", "zz", "bb"]

    def test_dict_inputs_bind_keyword_only_parameters(self):
        built = node(keyword_only, {"b": "bb", "a": "aa"}, "out")
        assert built.inputs == ["aa", "bb"]

    def test_dict_outputs_give_their_values(self):
        built = node(identity, "x", {"first": "one", "second": "two"})
        assert built.outputs == ["one", "two"]

    def test_none_inputs(self):
        built = node(constant_output, None, "out")
        assert built.inputs == []

    def test_none_outputs(self):
        built = node(identity, "x", None)
        assert built.outputs == []

    @pytest.mark.parametrize("empty", [[], {}])
    def test_falsy_inputs_mean_no_inputs(self, empty):
        built = node(constant_output, empty, "out")
        assert built.inputs == []
        assert str(built) == "constant_output(None) -> [out]"

    def test_params_inputs(self):
        built = node(scale, ["data", "params:factor"], "out")
        assert built.inputs == ["data", "params:factor"]
        assert str(built) == "scale([data;params:factor]) -> [out]"

    def test_duplicate_inputs_are_allowed(self):
        built = node(add, ["a", "a"], "out")
        assert built.inputs == ["a", "a"]

    def test_builtin_functions_skip_the_signature_check(self):
        built = node(max, ["a", "b", "c"], "out")
        assert built.inputs == ["a", "b", "c"]

    def test_outputs_with_different_transcodings_of_inputs_are_checked_too(self):
        built = node(identity, "a@pandas", "b@spark")
        assert built.inputs == ["a@pandas"]
        assert built.outputs == ["b@spark"]

    def test_raw_forms_keep_their_shape(self):
        inputs = {"minuend": "m", "subtrahend": "s"}
        outputs = ["out"]
        built = node(subtract, inputs, outputs, confirms="m")
        assert built._inputs == inputs
        assert built._outputs == outputs
        assert built._confirms == "m"
        assert node(identity, "x", "y")._inputs == "x"
        assert node(identity, "x", "y")._confirms is None


class TestValidation:
    @pytest.mark.parametrize(
        ("func", "inputs", "outputs", "message"),
        [
            pytest.param(
                "not a function",
                "x",
                "y",
                invalid_definition("first argument must be a function, not 'str'."),
                id="func-not-callable",
            ),
            pytest.param(
                None,
                "x",
                "y",
                invalid_definition(
                    "first argument must be a function, not 'NoneType'."
                ),
                id="func-none",
            ),
            pytest.param(
                identity,
                ("x",),
                "y",
                invalid_definition(
                    "'inputs' type must be one of [String, List, Dict, None], "
                    "not 'tuple'."
                ),
                id="inputs-tuple",
            ),
            pytest.param(
                identity,
                {"x"},
                "y",
                invalid_definition(
                    "'inputs' type must be one of [String, List, Dict, None], "
                    "not 'set'."
                ),
                id="inputs-set",
            ),
            pytest.param(
                add,
                ["x", 1],
                "y",
                invalid_definition(
                    "names of variables used as inputs to the function must be "
                    "of 'String' type, but 1 from ['x', 1] is '<class 'int'>'."
                ),
                id="input-name-not-str",
            ),
            pytest.param(
                identity,
                {"x": 1},
                "y",
                invalid_definition(
                    "names of variables used as inputs to the function must be "
                    "of 'String' type, but 1 from {'x': 1} is '<class 'int'>'."
                ),
                id="dict-input-name-not-str",
            ),
            pytest.param(
                identity,
                "x",
                {"y"},
                invalid_definition(
                    "'outputs' type must be one of [String, List, Dict, None], "
                    "not 'set'."
                ),
                id="outputs-set",
            ),
            pytest.param(
                identity,
                "x",
                ("y",),
                invalid_definition(
                    "'outputs' type must be one of [String, List, Dict, None], "
                    "not 'tuple'."
                ),
                id="outputs-tuple",
            ),
            pytest.param(
                identity,
                "x",
                ["y", 2],
                invalid_definition(
                    "names of variables used as outputs of the function must be "
                    "of 'String' type, but 2 from ['y', 2] is '<class 'int'>'."
                ),
                id="output-name-not-str",
            ),
            pytest.param(
                constant_output,
                None,
                None,
                invalid_definition("it must have some 'inputs' or 'outputs'."),
                id="no-inputs-no-outputs",
            ),
            pytest.param(
                constant_output,
                [],
                {},
                invalid_definition("it must have some 'inputs' or 'outputs'."),
                id="empty-inputs-empty-outputs",
            ),
            pytest.param(
                constant_output,
                None,
                ["a", "a"],
                "Failed to create node constant_output(None) -> [a;a] due to "
                "duplicate output(s) {'a'}.\nNode outputs must be unique.",
                id="duplicate-list-outputs",
            ),
            pytest.param(
                constant_output,
                None,
                {"first": "a", "second": "a"},
                "Failed to create node constant_output(None) -> [a;a] due to "
                "duplicate output(s) {'a'}.\nNode outputs must be unique.",
                id="duplicate-dict-outputs",
            ),
            pytest.param(
                identity,
                "a",
                "a",
                "Failed to create node identity([a]) -> [a].\nA node cannot have "
                "the same inputs and outputs even if they are transcoded: {'a'}",
                id="same-input-and-output",
            ),
            pytest.param(
                identity,
                "a@pandas",
                "a@spark",
                "Failed to create node identity([a@pandas]) -> [a@spark].\nA node "
                "cannot have the same inputs and outputs even if they are "
                "transcoded: {'a'}",
                id="same-input-and-output-transcoded",
            ),
            pytest.param(
                identity,
                "a",
                ["a@spark"],
                "Failed to create node identity([a]) -> [a@spark].\nA node "
                "cannot have the same inputs and outputs even if they are "
                "transcoded: {'a'}",
                id="plain-input-transcoded-output",
            ),
        ],
    )
    def test_value_errors(self, func, inputs, outputs, message):
        with pytest.raises(ValueError) as excinfo:
            node(func, inputs, outputs)
        assert str(excinfo.value) == message

    @pytest.mark.parametrize(
        ("func", "inputs", "message"),
        [
            pytest.param(
                identity,
                ["x", "z"],
                "Inputs of 'identity' function expected ['x'], but got ['x', 'z']",
                id="too-many",
            ),
            pytest.param(
                add,
                "x",
                "Inputs of 'add' function expected ['a', 'b'], but got x",
                id="too-few",
            ),
            pytest.param(
                identity,
                {"unknown": "x"},
                "Inputs of 'identity' function expected ['x'], "
                "but got {'unknown': 'x'}",
                id="unknown-dict-key",
            ),
            pytest.param(
                identity,
                None,
                "Inputs of 'identity' function expected ['x'], but got None",
                id="missing-required",
            ),
            pytest.param(
                keyword_only,
                ["a", "b"],
                "Inputs of 'keyword_only' function expected ['a', 'b', 'c'], "
                "but got ['a', 'b']",
                id="keyword-only-passed-positionally",
            ),
            pytest.param(
                partial(add, 1),
                ["x", "z"],
                "Inputs of '<partial>' function expected ['b'], but got ['x', 'z']",
                id="partial",
            ),
        ],
    )
    def test_inputs_must_bind_to_signature(self, func, inputs, message):
        with pytest.raises(TypeError) as excinfo:
            node(func, inputs, "out")
        assert str(excinfo.value) == message
        assert isinstance(excinfo.value.__cause__, TypeError)

    @pytest.mark.parametrize("name", ["bad name", "bad/name", "nämé!", "a:b"])
    def test_invalid_name(self, name):
        with pytest.raises(ValueError) as excinfo:
            node(identity, "x", "y", name=name)
        assert str(excinfo.value) == (
            f"'{name}' is not a valid node name. It must contain only letters, "
            f"digits, hyphens, underscores and/or fullstops."
        )

    @pytest.mark.parametrize("name", ["ok", "with-dash", "with_under", "a.b", "x1"])
    def test_valid_names(self, name):
        assert node(identity, "x", "y", name=name).name == name

    @pytest.mark.parametrize("tags", ["bad tag", ["fine", "bad tag"]])
    def test_invalid_tag(self, tags):
        with pytest.raises(ValueError) as excinfo:
            node(identity, "x", "y", tags=tags)
        assert str(excinfo.value) == (
            "'bad tag' is not a valid node tag. It must contain only letters, "
            "digits, hyphens, underscores and/or fullstops."
        )


class TestValidationOrder:
    """When a definition breaks several rules, the earliest documented check wins."""

    @pytest.mark.parametrize(
        ("args", "kwargs", "exc_type", "message"),
        [
            pytest.param(
                (None, ("x",), ("y",)),
                {},
                ValueError,
                invalid_definition(
                    "first argument must be a function, not 'NoneType'."
                ),
                id="callable-before-inputs-type",
            ),
            pytest.param(
                (identity, ("x",), ("y",)),
                {},
                ValueError,
                invalid_definition(
                    "'inputs' type must be one of [String, List, Dict, None], "
                    "not 'tuple'."
                ),
                id="inputs-type-before-outputs-type",
            ),
            pytest.param(
                (identity, [1], ("y",)),
                {},
                ValueError,
                invalid_definition(
                    "names of variables used as inputs to the function must be "
                    "of 'String' type, but 1 from [1] is '<class 'int'>'."
                ),
                id="input-names-before-outputs-type",
            ),
            pytest.param(
                (identity, ["x", "z"], ("y",)),
                {},
                ValueError,
                invalid_definition(
                    "'outputs' type must be one of [String, List, Dict, None], "
                    "not 'tuple'."
                ),
                id="outputs-type-before-binding",
            ),
            pytest.param(
                (identity, [], None),
                {},
                ValueError,
                invalid_definition("it must have some 'inputs' or 'outputs'."),
                id="no-io-before-binding",
            ),
            pytest.param(
                (identity, ["a", "b"], "y"),
                {"name": "bad name"},
                TypeError,
                "Inputs of 'identity' function expected ['x'], but got ['a', 'b']",
                id="binding-before-name",
            ),
            pytest.param(
                (identity, "x", "y"),
                {"name": "bad name", "tags": "bad tag"},
                ValueError,
                "'bad name' is not a valid node name. It must contain only "
                "letters, digits, hyphens, underscores and/or fullstops.",
                id="name-before-tags",
            ),
            pytest.param(
                (identity, "x", ["y", "y"]),
                {"tags": "bad tag"},
                ValueError,
                "'bad tag' is not a valid node tag. It must contain only "
                "letters, digits, hyphens, underscores and/or fullstops.",
                id="tags-before-duplicate-outputs",
            ),
            pytest.param(
                (identity, "y", ["y", "y"]),
                {},
                ValueError,
                "Failed to create node identity([y]) -> [y;y] due to duplicate "
                "output(s) {'y'}.\nNode outputs must be unique.",
                id="duplicate-outputs-before-same-input-output",
            ),
        ],
    )
    def test_first_failure_wins(self, args, kwargs, exc_type, message):
        with pytest.raises(exc_type) as excinfo:
            node(*args, **kwargs)
        assert str(excinfo.value) == message

    def test_duplicate_output_message_uses_the_explicit_name(self):
        with pytest.raises(ValueError) as excinfo:
            node(constant_output, None, ["a", "a"], name="dup")
        assert str(excinfo.value) == (
            "Failed to create node dup: constant_output(None) -> [a;a] due to "
            "duplicate output(s) {'a'}.\nNode outputs must be unique."
        )


class TestDottedNameWarning:
    def test_dotted_input_warns(self):
        with pytest.warns(UserWarning, match=re.escape(dotted_name_warning("a.b"))):
            node(identity, "a.b", "y")

    def test_dotted_output_warns(self):
        with pytest.warns(UserWarning, match=re.escape(dotted_name_warning("a.b"))):
            node(identity, "x", "a.b")

    def test_each_dotted_name_warns(self):
        with pytest.warns(UserWarning, match="contains '.' characters") as record:
            node(add, ["one.a", "two.b"], {"k": "three.c"})
        assert [str(w.message) for w in record] == [
            dotted_name_warning("one.a"),
            dotted_name_warning("two.b"),
            dotted_name_warning("three.c"),
        ]

    @pytest.mark.parametrize(
        ("name", "namespace"),
        [
            pytest.param("other.b", "ns", id="other-prefix"),
            pytest.param("a.ns.b", "ns", id="namespace-not-at-start"),
            pytest.param(".x", "ns", id="empty-prefix"),
            pytest.param("x.", None, id="trailing-dot"),
            pytest.param("a.x", "", id="empty-namespace"),
        ],
    )
    def test_warns_when_prefix_does_not_match_namespace(self, name, namespace):
        with pytest.warns(UserWarning, match=re.escape(dotted_name_warning(name))):
            node(identity, name, "y", namespace=namespace)

    @pytest.mark.parametrize(
        ("name", "namespace"),
        [
            pytest.param("params:a.b", None, id="params"),
            pytest.param("ns.b", "ns", id="same-namespace"),
            pytest.param("ns.x.b", "ns.x", id="nested-namespace"),
            pytest.param("ns.b", "ns.x", id="top-level-segment-only"),
            pytest.param("nsfoo.b", "ns", id="string-prefix-of-namespace"),
            pytest.param("x.", "x", id="trailing-dot-in-namespace"),
            pytest.param("plain", None, id="no-dot"),
        ],
    )
    def test_no_warning(self, name, namespace):
        build_without_warnings(identity, name, "y", namespace=namespace)

    def test_warning_precedes_later_validation_errors(self):
        with (
            pytest.warns(UserWarning, match=re.escape(dotted_name_warning("a.x"))),
            pytest.raises(ValueError, match="'outputs' type must be one of"),
        ):
            node(identity, "a.x", ("y",))


# ------------------------------------------------------------- tags, confirms


class TestTags:
    def test_str_tag(self):
        assert node(identity, "x", "y", tags="one").tags == {"one"}

    def test_iterable_tags_are_deduplicated(self):
        assert node(identity, "x", "y", tags=("a", "b", "a")).tags == {"a", "b"}

    def test_set_tags(self):
        assert node(identity, "x", "y", tags={"a", "b"}).tags == {"a", "b"}

    def test_no_tags(self):
        assert node(identity, "x", "y").tags == set()

    def test_tags_property_is_a_copy(self):
        built = node(identity, "x", "y", tags=["a"])
        built.tags.add("mutated")
        assert built.tags == {"a"}

    def test_tag_returns_a_new_node_with_the_union(self):
        original = node(identity, "x", "y", name="n", tags=["a"])
        tagged = original.tag(["b", "c"])
        assert tagged is not original
        assert isinstance(tagged, Node)
        assert tagged.tags == {"a", "b", "c"}
        assert original.tags == {"a"}

    def test_tag_accepts_a_str(self):
        assert node(identity, "x", "y", tags="a").tag("b").tags == {"a", "b"}

    def test_tag_keeps_everything_else(self):
        original = node(
            subtract,
            {"minuend": "m", "subtrahend": "s"},
            ["out"],
            name="n",
            namespace="ns",
            confirms="m",
        )
        tagged = original.tag("t")
        assert tagged == original
        assert tagged.func is subtract
        assert tagged._inputs == {"minuend": "m", "subtrahend": "s"}
        assert tagged._outputs == ["out"]
        assert tagged._confirms == "m"
        assert tagged.namespace == "ns"

    def test_tag_validates_new_tags(self):
        with pytest.raises(ValueError, match=re.escape("'bad tag' is not a valid")):
            node(identity, "x", "y").tag("bad tag")


class TestConfirms:
    def test_str_confirms(self):
        assert node(identity, "x", "y", confirms="c").confirms == ["c"]

    def test_list_confirms(self):
        assert node(identity, "x", "y", confirms=["c", "d"]).confirms == ["c", "d"]

    def test_no_confirms(self):
        assert node(identity, "x", "y").confirms == []

    def test_confirms_need_not_be_inputs_or_outputs(self):
        built = node(identity, "x", "y", confirms="elsewhere")
        assert built.confirms == ["elsewhere"]


# ------------------------------------------------------------------ namespace


class TestNamespace:
    def test_namespace_prefixes_explicit_name(self):
        built = node(identity, "x", "y", name="n", namespace="ns")
        assert built.name == "ns.n"
        assert built.namespace == "ns"

    def test_namespace_prefixes_auto_name(self):
        built = node(identity, "x", "y", namespace="a.b")
        assert built.name == "a.b." + expected_auto_name(identity, ["x"], ["y"])

    def test_no_namespace(self):
        assert node(identity, "x", "y", name="n").namespace is None

    def test_empty_namespace_adds_no_prefix(self):
        assert node(identity, "x", "y", name="n", namespace="").name == "n"

    @pytest.mark.parametrize(
        ("namespace", "prefixes"),
        [
            (None, [""]),
            ("a", ["a"]),
            ("a.b", ["a", "a.b"]),
            ("a.b.c", ["a", "a.b", "a.b.c"]),
        ],
    )
    def test_namespace_prefixes(self, namespace, prefixes):
        built = node(identity, "x", "y", namespace=namespace)
        assert built.namespace_prefixes == prefixes


# --------------------------------------------------------------------- naming


class TestAutoName:
    def test_recipe_for_plain_function(self):
        built = node(identity, "in", "out")
        key = f"{identity.__module__}.identity|['in']|['out']"
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        assert built.name == f"identity__{digest}"

    def test_recipe_uses_list_forms(self):
        built = node(subtract, {"subtrahend": "s", "minuend": "m"}, {"k": "o"})
        assert built.name == expected_auto_name(subtract, ["m", "s"], ["o"])

    def test_no_inputs_or_no_outputs(self):
        assert node(constant_output, None, "o").name == expected_auto_name(
            constant_output, [], ["o"]
        )
        assert node(identity, "x", None).name == expected_auto_name(identity, ["x"], [])

    @pytest.mark.parametrize(
        ("func", "inputs", "outputs", "name"),
        [
            pytest.param(max, ["a", "b"], "c", "max__4813e9dc", id="builtin"),
            pytest.param(json.dumps, "data", "text", "dumps__a911a19e", id="str"),
            pytest.param(
                json.dumps, {"obj": "data"}, ["text"], "dumps__a911a19e", id="dict"
            ),
        ],
    )
    def test_literal_names(self, func, inputs, outputs, name):
        assert node(func, inputs, outputs).name == name

    def test_dict_and_list_spellings_share_a_name(self):
        as_list = node(subtract, ["m", "s"], ["o"])
        as_dict = node(subtract, {"minuend": "m", "subtrahend": "s"}, {"k": "o"})
        assert as_list.name == as_dict.name

    def test_different_datasets_give_different_names(self):
        assert node(identity, "a", "b").name != node(identity, "a", "c").name
        assert node(identity, "a", "b").name != node(identity, "c", "b").name

    def test_same_definition_gives_the_same_name(self):
        assert node(identity, "a", "b").name == node(identity, "a", "b").name

    def test_partial_recipe(self):
        built = node(partial(scale, factor=2), "value", "scaled")
        key = "partial(scale)|['value']|['scaled']"
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        assert built.name == f"partial(scale)__{digest}"

    def test_partial_literal_name(self):
        built = node(partial(scale, factor=2), {"value": "value"}, ["scaled"])
        assert built.name == "partial(scale)__0bc3f64e"

    def test_partial_name_does_not_warn(self):
        built = build_without_warnings(partial(scale, factor=2), "value", "scaled")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert built.name.startswith("partial(scale)__")

    def test_lambda_recipe(self):
        built = node(lambda x: x, "in", "out")
        key = f"{built.func.__module__}.<lambda>|['in']|['out']"
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        assert built.name == f"<lambda>__{digest}"

    def test_explicit_name_wins(self):
        assert node(identity, "x", "y", name="mine").name == "mine"

    def test_empty_name_means_auto_name(self):
        built = node(identity, "x", "y", name="")
        assert built.name == expected_auto_name(identity, ["x"], ["y"])
        assert str(built) == "identity([x]) -> [y]"


class TestShortName:
    def test_explicit_name(self):
        assert node(identity, "x", "y", name="my_node").short_name == "my_node"

    def test_explicit_name_without_namespace(self):
        built = node(identity, "x", "y", name="n", namespace="ns")
        assert built.short_name == "n"

    def test_function_name_is_title_cased(self):
        assert node(constant_output, None, "o").short_name == "Constant Output"
        assert node(identity, "x", "y", namespace="ns").short_name == "Identity"

    def test_lambda(self):
        assert node(lambda x: x, "x", "y").short_name == "<Lambda>"

    def test_partial_warns(self):
        built = node(partial(scale, factor=2), "value", "scaled")
        with pytest.warns(UserWarning, match=re.escape(PARTIAL_WARNING)):
            assert built.short_name == "<Partial>"


class TestPartialNodes:
    def test_str_of_partial_warns(self):
        built = node(partial(scale, factor=2), "value", "scaled")
        with pytest.warns(UserWarning, match=re.escape(PARTIAL_WARNING)):
            assert str(built) == "<partial>([value]) -> [scaled]"

    def test_repr_of_partial_warns(self):
        built = node(partial(scale, factor=2), "value", "scaled")
        with pytest.warns(UserWarning, match=re.escape(PARTIAL_WARNING)):
            assert repr(built) == "Node(<partial>, 'value', 'scaled', None)"

    def test_partial_binds_remaining_parameters(self):
        built = build_without_warnings(partial(scale, factor=2), "value", "scaled")
        assert built.inputs == ["value"]

    def test_wrapped_partial_reads_as_the_function(self):
        wrapped = update_wrapper(partial(scale, factor=2), scale)
        built = build_without_warnings(wrapped, "value", "scaled")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert str(built) == "scale([value]) -> [scaled]"
            assert built.short_name == "Scale"
            assert built.name == "partial(scale)__0bc3f64e"


class TestStringForms:
    @pytest.mark.parametrize(
        ("built", "expected"),
        [
            pytest.param(
                node(identity, "in", "out", name="name"),
                "name: identity([in]) -> [out]",
                id="named",
            ),
            pytest.param(
                node(identity, "in", "out"),
                "identity([in]) -> [out]",
                id="unnamed",
            ),
            pytest.param(
                node(constant_output, None, "output1"),
                "constant_output(None) -> [output1]",
                id="no-inputs",
            ),
            pytest.param(
                node(identity, "in", None),
                "identity([in]) -> None",
                id="no-outputs",
            ),
            pytest.param(
                node(add, ["a", "b"], ["c", "d"], name="n", namespace="ns"),
                "n: add([a;b]) -> [c;d]",
                id="namespace-not-shown",
            ),
            pytest.param(
                node(subtract, {"subtrahend": "s", "minuend": "m"}, {"k": "o"}),
                "subtract([m;s]) -> [o]",
                id="dict-inputs-in-binding-order",
            ),
            pytest.param(
                node(lambda x: x, "in", "out"),
                "<lambda>([in]) -> [out]",
                id="lambda",
            ),
        ],
    )
    def test_str(self, built, expected):
        assert str(built) == expected

    @pytest.mark.parametrize(
        ("built", "expected"),
        [
            pytest.param(
                node(identity, "in", "out"),
                "Node(identity, 'in', 'out', None)",
                id="str-io",
            ),
            pytest.param(
                node(add, ["a", "b"], {"k": "o"}, name="adder"),
                "Node(add, ['a', 'b'], {'k': 'o'}, 'adder')",
                id="list-and-dict",
            ),
            pytest.param(
                node(constant_output, None, "o", namespace="ns"),
                "Node(constant_output, None, 'o', None)",
                id="no-inputs",
            ),
        ],
    )
    def test_repr(self, built, expected):
        assert repr(built) == expected


# ------------------------------------------------------------------- identity


class TestEquality:
    def test_function_tags_and_confirms_are_ignored(self):
        first = node(add, ["x", "y"], "o", name="n")
        second = node(subtract, ["x", "y"], "o", name="n", tags="t", confirms="c")
        assert first == second
        assert hash(first) == hash(second)
        assert len({first, second}) == 1

    def test_names_matter(self):
        assert node(identity, "x", "y", name="a") != node(identity, "x", "y", name="b")

    def test_namespace_matters(self):
        assert node(identity, "x", "y", name="n", namespace="ns") != node(
            identity, "x", "y", name="n"
        )

    def test_list_order_matters(self):
        assert node(add, ["x", "y"], "o", name="n") != node(
            add, ["y", "x"], "o", name="n"
        )

    def test_dict_order_does_not_matter(self):
        first = node(add, {"a": "x", "b": "y"}, {"p": "o", "q": "r"}, name="n")
        second = node(add, {"b": "y", "a": "x"}, {"q": "r", "p": "o"}, name="n")
        assert first == second
        assert hash(first) == hash(second)

    def test_list_and_dict_spellings_differ(self):
        as_list = node(add, ["x", "y"], "o")
        as_dict = node(add, {"a": "x", "b": "y"}, "o")
        assert as_list.name == as_dict.name
        assert as_list != as_dict

    def test_str_and_single_item_list_differ(self):
        assert node(identity, "x", "y", name="n") != node(
            identity, ["x"], "y", name="n"
        )
        assert node(identity, "x", "y", name="n") != node(
            identity, "x", ["y"], name="n"
        )

    def test_auto_named_nodes_with_same_definition_are_equal(self):
        assert node(identity, "x", "y") == node(identity, "x", "y")

    def test_different_functions_give_different_auto_names(self):
        assert node(add, ["x", "y"], "o") != node(subtract, ["x", "y"], "o")

    def test_comparison_with_non_node(self):
        built = node(identity, "x", "y")
        assert built != "x"
        assert (built == "x") is False
        assert built.__eq__("x") is NotImplemented

    def test_ordering_by_name(self):
        first = node(identity, "x", "y", name="a")
        second = node(identity, "x", "y", name="b")
        assert first < second
        assert not second < first
        assert sorted([second, first]) == [first, second]

    def test_ordering_falls_back_to_inputs(self):
        assert node(identity, "a", "o", name="n") < node(identity, "b", "o", name="n")

    def test_ordering_with_non_node_raises(self):
        built = node(identity, "x", "y")
        with pytest.raises(TypeError):
            built < "x"  # noqa: B015


# ------------------------------------------------------------- copies, setter


class TestCopy:
    def test_copy_is_an_equal_new_node(self):
        original = node(
            subtract,
            {"minuend": "m", "subtrahend": "s"},
            ["out"],
            name="n",
            namespace="ns",
            tags=["t"],
            confirms="m",
        )
        copied = original._copy()
        assert copied == original
        assert copied is not original
        assert copied.func is subtract
        assert copied.tags == {"t"}
        assert copied.namespace == "ns"
        assert copied._inputs == {"minuend": "m", "subtrahend": "s"}
        assert copied._outputs == ["out"]
        assert copied._confirms == "m"

    def test_copy_with_overrides(self):
        original = node(subtract, {"minuend": "m", "subtrahend": "s"}, "o", name="n")
        copied = original._copy(
            name="other", inputs={"subtrahend": "q", "minuend": "p"}, namespace="ns"
        )
        assert copied.name == "ns.other"
        assert copied._inputs == {"subtrahend": "q", "minuend": "p"}
        assert copied.inputs == ["p", "q"]
        assert original.name == "n"
        assert original.inputs == ["m", "s"]

    def test_copy_validates(self):
        with pytest.raises(ValueError, match="is not a valid node name"):
            node(identity, "x", "y")._copy(name="bad name")


class TestFuncSetter:
    def test_func_property(self):
        assert node(identity, "x", "y").func is identity

    def test_setting_func_rebinds_dict_inputs(self):
        built = node(subtract, {"minuend": "m", "subtrahend": "s"}, "out")
        assert built.inputs == ["m", "s"]
        built.func = subtract_swapped
        assert built.func is subtract_swapped
        assert built.inputs == ["s", "m"]

    def test_setting_func_changes_the_auto_name(self):
        built = node(subtract, {"minuend": "m", "subtrahend": "s"}, "out")
        assert built.name == expected_auto_name(subtract, ["m", "s"], ["out"])
        built.func = subtract_swapped
        assert built.name == expected_auto_name(subtract_swapped, ["s", "m"], ["out"])

    def test_setting_func_keeps_explicit_name_and_raw_inputs(self):
        inputs = {"minuend": "m", "subtrahend": "s"}
        built = node(subtract, inputs, "out", name="n")
        built.func = subtract_swapped
        assert built.name == "n"
        assert built._inputs == inputs
        assert str(built) == "n: subtract_swapped([s;m]) -> [out]"


# ---------------------------------------------------------- module contents


class TestModuleHelpers:
    def test_to_list(self):
        assert _to_list(None) == []
        assert _to_list("a") == ["a"]
        assert _to_list(["a", "b"]) == ["a", "b"]
        assert _to_list({"k": "a", "j": "b"}) == ["a", "b"]
        assert _to_list(("a", "b")) == ["a", "b"]

    def test_get_readable_func_name(self):
        assert _get_readable_func_name(identity) == "identity"
        assert _get_readable_func_name(partial(scale, factor=2)) == "<partial>"
        assert _get_readable_func_name(lambda: None) == "<lambda>"

    def test_dict_inputs_to_list(self):
        assert _dict_inputs_to_list(subtract, {"subtrahend": "s", "minuend": "m"}) == [
            "m",
            "s",
        ]
        assert _dict_inputs_to_list(collect, {"z": "zz", "a": "aa"}) == ["aa", "zz"]


class TestGroupedNodes:
    def test_defaults(self):
        group = GroupedNodes(name="ns", type="namespace")
        assert group.nodes == []
        assert group.dependencies == []

    def test_default_lists_are_not_shared(self):
        first = GroupedNodes(name="a", type="nodes")
        first.nodes.append("n")
        assert GroupedNodes(name="b", type="nodes").nodes == []

    def test_fields_and_equality(self):
        group = GroupedNodes("ns", "namespace", ["ns.a"], ["other"])
        assert (group.name, group.type, group.nodes, group.dependencies) == (
            "ns",
            "namespace",
            ["ns.a"],
            ["other"],
        )
        assert group == GroupedNodes("ns", "namespace", ["ns.a"], ["other"])
