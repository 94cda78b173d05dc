"""Tests for ``Node.run``: input checks, output mapping, logging and generators."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator

import pytest

from dagloop.pipeline import node

LOGGER_NAME = "dagloop.pipeline.node"


# --------------------------------------------------------------------- helpers


def identity(x):
    return x


def subtract(minuend, subtrahend):
    return minuend - subtrahend


def constant_output():
    return 42


class NodeFailure(Exception):
    pass


def fail(x):
    raise NodeFailure(f"cannot handle {x}")


@pytest.fixture
def produced():
    """Records each item a generator node yields, as it yields it."""
    return []


@pytest.fixture
def pairs(produced):
    def generate():
        for i in range(3):
            produced.append(i)
            yield (i, i * 10)

    return generate


@pytest.fixture
def mappings(produced):
    def generate():
        for i in range(3):
            produced.append(i)
            yield {"tens": i * 10, "units": i}

    return generate


def node_records(caplog, level):
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno == level
    ]


# ---------------------------------------------------------------------- inputs


class TestRunInputs:
    def test_no_inputs_with_none(self):
        assert node(constant_output, None, "out").run() == {"out": 42}
        assert node(constant_output, None, "out").run(None) == {"out": 42}

    def test_no_inputs_with_empty_dict(self):
        assert node(constant_output, None, "out").run({}) == {"out": 42}

    @pytest.mark.parametrize("empty", [[], {}])
    def test_falsy_declared_inputs_take_no_inputs(self, empty):
        assert node(constant_output, empty, "out").run({}) == {"out": 42}

    def test_str_input(self):
        assert node(identity, "x", "out").run({"x": 7}) == {"out": 7}

    def test_list_inputs_are_passed_in_list_order(self):
        built = node(subtract, ["b", "a"], "out")
        assert built.run({"a": 1, "b": 10}) == {"out": 9}

    def test_dict_inputs_are_passed_by_parameter(self):
        built = node(subtract, {"subtrahend": "a", "minuend": "b"}, "out")
        assert built.run({"a": 1, "b": 10}) == {"out": 9}

    def test_duplicate_list_inputs_bind_the_same_value_twice(self):
        assert node(subtract, ["a", "a"], "out").run({"a": 5}) == {"out": 0}

    def test_params_input(self):
        assert node(identity, "params:alpha", "out").run({"params:alpha": 0.5}) == {
            "out": 0.5
        }

    @pytest.mark.parametrize(
        ("inputs", "type_repr"),
        [(["x"], "<class 'list'>"), ("x", "<class 'str'>"), ((1,), "<class 'tuple'>")],
    )
    def test_non_dict_inputs_are_rejected(self, caplog, inputs, type_repr):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        with pytest.raises(ValueError) as excinfo:
            node(identity, "x", "out").run(inputs)
        assert str(excinfo.value) == (
            f"Node.run() expects a dictionary or None, but got {type_repr} instead"
        )
        assert node_records(caplog, logging.INFO) == [
            "Running node: identity([x]) -> [out]"
        ]
        assert node_records(caplog, logging.ERROR) == []


class TestInputMismatch:
    @pytest.mark.parametrize(
        ("built", "inputs", "message"),
        [
            pytest.param(
                node(constant_output, None, "o"),
                {"b": 1, "a": 2},
                "Node constant_output(None) -> [o] expected no inputs, but got the "
                "following 2 input(s) instead: ['a', 'b'].",
                id="no-inputs",
            ),
            pytest.param(
                node(identity, "x", "o"),
                {},
                "Node identity([x]) -> [o] expected one input named 'x', but got "
                "the following 0 input(s) instead: [].",
                id="one-input-missing",
            ),
            pytest.param(
                node(identity, "x", "o"),
                {"y": 1},
                "Node identity([x]) -> [o] expected one input named 'x', but got "
                "the following 1 input(s) instead: ['y'].",
                id="one-input-wrong-name",
            ),
            pytest.param(
                node(identity, "x", "o"),
                {"y": 1, "x": 2},
                "Node identity([x]) -> [o] expected one input named 'x', but got "
                "the following 2 input(s) instead: ['x', 'y'].",
                id="one-input-extra",
            ),
            pytest.param(
                node(subtract, ["b", "a"], "o"),
                {"a": 1},
                "Node subtract([b;a]) -> [o] expected 2 input(s) ['b', 'a'], but "
                "got the following 1 input(s) instead: ['a'].",
                id="list-missing",
            ),
            pytest.param(
                node(subtract, ["b", "a"], "o"),
                {"c": 3, "a": 1, "b": 2},
                "Node subtract([b;a]) -> [o] expected 2 input(s) ['b', 'a'], but "
                "got the following 3 input(s) instead: ['a', 'b', 'c'].",
                id="list-extra",
            ),
            pytest.param(
                node(subtract, {"minuend": "y", "subtrahend": "x"}, "o"),
                {"x": 1},
                "Node subtract([y;x]) -> [o] expected 2 input(s) ['x', 'y'], but "
                "got the following 1 input(s) instead: ['x'].",
                id="dict-missing",
            ),
            pytest.param(
                node(subtract, {"minuend": "x", "subtrahend": "x"}, "o", name="n"),
                {},
                "Node n: subtract([x;x]) -> [o] expected 1 input(s) ['x'], but got "
                "the following 0 input(s) instead: [].",
                id="dict-duplicate-values",
            ),
        ],
    )
    def test_mismatch(self, caplog, built, inputs, message):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        with pytest.raises(ValueError) as excinfo:
            built.run(inputs)
        assert str(excinfo.value) == message
        assert node_records(caplog, logging.ERROR) == [
            f"Node {built} failed with error: \n{message}"
        ]


class TestCall:
    def test_call_with_keywords_runs_the_node(self):
        built = node(subtract, ["a", "b"], "out")
        assert built(a=5, b=3) == {"out": 2}

    def test_call_with_no_arguments(self):
        assert node(constant_output, None, "out")() == {"out": 42}

    def test_call_checks_inputs_like_run(self):
        with pytest.raises(ValueError, match="expected one input named 'x'"):
            node(identity, "x", "out")(y=1)

    def test_positional_call_is_a_type_error(self):
        built = node(subtract, ["a", "b"], "out")
        with pytest.raises(TypeError) as excinfo:
            built(5, 3)
        assert str(excinfo.value) == (
            "Node.__call__() takes 1 positional argument but 3 were given"
        )


# --------------------------------------------------------------------- outputs


class TestOutputs:
    def test_str_output_takes_the_whole_value(self):
        assert node(identity, "x", "out").run({"x": [1, 2]}) == {"out": [1, 2]}

    def test_str_output_can_be_none(self):
        assert node(identity, "x", "out").run({"x": None}) == {"out": None}

    @pytest.mark.parametrize("value", [[1, 2], (1, 2)])
    def test_list_outputs(self, value):
        built = node(identity, "x", ["a", "b"])
        assert built.run({"x": value}) == {"a": 1, "b": 2}

    def test_list_outputs_keep_declared_order(self):
        result = node(identity, "x", ["b", "a"]).run({"x": (1, 2)})
        assert list(result.items()) == [("b", 1), ("a", 2)]

    def test_dict_outputs_route_by_key(self):
        built = node(identity, "x", {"first": "a", "second": "b"})
        result = built.run({"x": {"second": 2, "first": 1}})
        assert result == {"a": 1, "b": 2}

    def test_none_outputs_discard_the_return_value(self):
        calls = []

        def record(x):
            calls.append(x)
            return "ignored"

        assert node(record, "x", None).run({"x": 1}) == {}
        assert calls == [1]

    @pytest.mark.parametrize(
        ("outputs", "value", "detail"),
        [
            pytest.param(
                ["a", "b"],
                {"a": 1},
                "The node definition contains a list of outputs ['a', 'b'], "
                "whereas the node function returned a 'dict'.",
                id="list-got-dict",
            ),
            pytest.param(
                ["a", "b"],
                3,
                "The node definition contains a list of outputs ['a', 'b'], "
                "whereas the node function returned a 'int'.",
                id="list-got-int",
            ),
            pytest.param(
                ["a"],
                "ab",
                "The node definition contains a list of outputs ['a'], "
                "whereas the node function returned a 'str'.",
                id="list-got-str",
            ),
            pytest.param(
                ["a", "b"],
                [1, 2, 3],
                "The node function returned 3 output(s), whereas the node "
                "definition contains 2 output(s).",
                id="list-too-long",
            ),
            pytest.param(
                ["a", "b"],
                (1,),
                "The node function returned 1 output(s), whereas the node "
                "definition contains 2 output(s).",
                id="tuple-too-short",
            ),
            pytest.param(
                {"k": "a"},
                [1],
                "The node output is a dictionary, whereas the function output is "
                "<class 'list'>.",
                id="dict-got-list",
            ),
            pytest.param(
                {"k": "a"},
                {"other": 1},
                "The node's output keys {'other'} do not match with the returned "
                "output's keys {'k'}.",
                id="dict-wrong-key",
            ),
        ],
    )
    def test_shape_errors(self, caplog, outputs, value, detail):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        built = node(identity, "x", outputs)
        with pytest.raises(ValueError) as excinfo:
            built.run({"x": value})
        message = f"Failed to save outputs of node {built}.\n{detail}"
        assert str(excinfo.value) == message
        assert node_records(caplog, logging.ERROR) == [
            f"Node {built} failed with error: \n{message}"
        ]

    def test_shape_error_names_a_named_node(self):
        built = node(identity, "x", ["a", "b"], name="splitter")
        with pytest.raises(ValueError) as excinfo:
            built.run({"x": [1]})
        assert str(excinfo.value) == (
            "Failed to save outputs of node splitter: identity([x]) -> [a;b].\n"
            "The node function returned 1 output(s), whereas the node definition "
            "contains 2 output(s)."
        )

    def test_extra_returned_key_is_rejected(self):
        """The returned keys are printed first, the declared keys last."""
        built = node(identity, "x", {"k": "a"})
        with pytest.raises(ValueError) as excinfo:
            built.run({"x": {"k": 1, "extra": 2}})
        prefix = f"Failed to save outputs of node {built}.\nThe node's output keys "
        suffix = " do not match with the returned output's keys {'k'}."
        message = str(excinfo.value)
        assert message.startswith(prefix)
        assert message.endswith(suffix)
        returned = message.removeprefix(prefix).removesuffix(suffix)
        assert returned in ("{'k', 'extra'}", "{'extra', 'k'}")


# ------------------------------------------------------------ logs and errors


class TestLoggingAndErrors:
    def test_logs_running_node_at_info(self, caplog):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        node(identity, "x", "out", name="n").run({"x": 1})
        assert node_records(caplog, logging.INFO) == [
            "Running node: n: identity([x]) -> [out]"
        ]
        assert node_records(caplog, logging.ERROR) == []

    def test_node_exception_propagates_unchanged(self, caplog):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        error = NodeFailure("boom")

        def raise_it(x):
            raise error

        built = node(raise_it, "x", "out")
        with pytest.raises(NodeFailure) as excinfo:
            built.run({"x": 1})
        assert excinfo.value is error

    def test_failure_is_logged_at_error(self, caplog):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)
        built = node(fail, "x", "out")
        with pytest.raises(NodeFailure, match=r"^cannot handle 3$"):
            built.run({"x": 3})
        assert node_records(caplog, logging.INFO) == [
            "Running node: fail([x]) -> [out]"
        ]
        assert node_records(caplog, logging.ERROR) == [
            "Node fail([x]) -> [out] failed with error: \ncannot handle 3"
        ]

    def test_base_exceptions_are_not_logged_as_failures(self, caplog):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)

        def interrupt():
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            node(interrupt, None, "out").run()
        assert node_records(caplog, logging.ERROR) == []


# ------------------------------------------------------------------ generators


class TestGeneratorOutputs:
    def test_str_output_is_the_generator_itself(self, pairs, produced):
        result = node(pairs, None, "out").run()
        stream = result["out"]
        assert inspect.isgenerator(stream)
        assert inspect.getgeneratorstate(stream) == inspect.GEN_CREATED
        assert produced == []
        assert list(stream) == [(0, 0), (1, 10), (2, 20)]

    def test_str_output_returns_the_same_generator_object(self):
        def numbers():
            yield 1

        stream = numbers()
        assert node(identity, "x", "out").run({"x": stream})["out"] is stream

    def test_list_outputs_are_split_lazily(self, pairs, produced):
        result = node(pairs, None, ["units", "tens"]).run()
        assert list(result) == ["units", "tens"]
        assert all(isinstance(value, Iterator) for value in result.values())
        # Only the first item was read, to check its shape.
        assert produced == [0]
        units = result["units"]
        assert next(units) == 0
        assert produced == [0]
        assert next(units) == 1
        assert produced == [0, 1]
        assert list(units) == [2]
        assert produced == [0, 1, 2]
        assert list(result["tens"]) == [0, 10, 20]

    def test_list_outputs_can_be_consumed_in_any_order(self, pairs):
        result = node(pairs, None, ["units", "tens"]).run()
        assert list(result["tens"]) == [0, 10, 20]
        assert list(result["units"]) == [0, 1, 2]

    def test_dict_outputs_are_split_lazily(self, mappings, produced):
        built = node(mappings, None, {"units": "U", "tens": "T"})
        result = built.run()
        assert sorted(result) == ["T", "U"]
        assert all(isinstance(value, Iterator) for value in result.values())
        assert produced == [0]
        assert list(result["T"]) == [0, 10, 20]
        assert produced == [0, 1, 2]
        assert list(result["U"]) == [0, 1, 2]

    def test_generator_with_inputs(self, produced):
        def countdown(start):
            for i in range(start, 0, -1):
                produced.append(i)
                yield [i, -i]

        result = node(countdown, "start", ["pos", "neg"]).run({"start": 3})
        assert produced == [3]
        assert list(result["pos"]) == [3, 2, 1]
        assert list(result["neg"]) == [-3, -2, -1]

    @pytest.mark.parametrize(
        ("outputs", "first", "detail"),
        [
            pytest.param(
                ["a", "b"],
                5,
                "The node definition contains a list of outputs ['a', 'b'], "
                "whereas the node function returned a 'int'.",
                id="list-got-int",
            ),
            pytest.param(
                ["a", "b"],
                (1, 2, 3),
                "The node function returned 3 output(s), whereas the node "
                "definition contains 2 output(s).",
                id="list-wrong-length",
            ),
            pytest.param(
                {"k": "a"},
                [1],
                "The node output is a dictionary, whereas the function output is "
                "<class 'list'>.",
                id="dict-got-list",
            ),
            pytest.param(
                {"k": "a"},
                {"z": 1},
                "The node's output keys {'z'} do not match with the returned "
                "output's keys {'k'}.",
                id="dict-wrong-key",
            ),
        ],
    )
    def test_first_yield_is_validated(self, caplog, outputs, first, detail):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)

        def generate():
            yield first

        built = node(generate, None, outputs)
        with pytest.raises(ValueError) as excinfo:
            built.run()
        message = f"Failed to save outputs of node {built}.\n{detail}"
        assert str(excinfo.value) == message
        assert node_records(caplog, logging.ERROR) == [
            f"Node {built} failed with error: \n{message}"
        ]

    @pytest.mark.parametrize("outputs", [["a", "b"], {"k": "a"}])
    def test_empty_generator_with_several_outputs_fails(self, caplog, outputs):
        caplog.set_level(logging.INFO, logger=LOGGER_NAME)

        def generate_nothing():
            yield from ()

        built = node(generate_nothing, None, outputs)
        with pytest.raises(ValueError):
            built.run()
        assert len(node_records(caplog, logging.ERROR)) == 1

    def test_empty_generator_with_str_output_is_returned(self):
        def generate_nothing():
            yield from ()

        result = node(generate_nothing, None, "out").run()
        assert list(result["out"]) == []

    def test_plain_iterators_are_not_streamed(self):
        """Only generators are split; another iterator is checked as a whole value."""

        def iterate():
            return iter([(1, 2), (3, 4)])

        built = node(iterate, None, ["a", "b"])
        with pytest.raises(ValueError) as excinfo:
            built.run()
        assert str(excinfo.value) == (
            f"Failed to save outputs of node {built}.\n"
            "The node definition contains a list of outputs ['a', 'b'], whereas "
            "the node function returned a 'list_iterator'."
        )

    def test_empty_generator_message_names_the_node(self):
        def generate_nothing():
            yield from ()

        built = node(generate_nothing, None, ["a", "b"])
        with pytest.raises(ValueError) as excinfo:
            built.run()
        assert str(excinfo.value) == (
            f"Failed to save outputs of node {built}.\n"
            "The node function is a generator that yielded nothing."
        )

    @pytest.mark.parametrize(
        ("outputs", "later", "rule"),
        [
            pytest.param(
                ["a", "b"],
                (3,),
                "every item must be a list or tuple of 2 value(s), one per output.",
                id="list-too-short",
            ),
            pytest.param(
                ["a", "b"],
                7,
                "every item must be a list or tuple of 2 value(s), one per output.",
                id="list-not-a-sequence",
            ),
            pytest.param(
                {"k": "a", "j": "b"},
                {"k": 1},
                "every item must be a dict with the keys ['j', 'k'].",
                id="dict-missing-key",
            ),
        ],
    )
    def test_later_yields_are_validated_when_consumed(self, outputs, later, rule):
        """A malformed later item fails clearly instead of truncating the streams."""
        first = (1, 2) if isinstance(outputs, list) else {"k": 1, "j": 2}

        def generate():
            yield first
            yield later

        built = node(generate, None, outputs)
        streams = built.run()
        stream = next(iter(streams.values()))
        assert next(stream) == 1
        with pytest.raises(ValueError) as excinfo:
            next(stream)
        assert str(excinfo.value) == (
            f"Failed to save outputs of node {built}.\n"
            f"The node generator yielded {later!r} after its first item; {rule}"
        )
