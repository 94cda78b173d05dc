"""Tests for ``dagloop.pipeline.Pipeline``: construction, graph queries and selection.

Expected values and messages were checked against Kedro 1.1.1 running the same
scenarios; where Kedro's output depends on set iteration order, only the part that
is deterministic is asserted.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from unittest.mock import PropertyMock, patch

import pytest

import dagloop
from dagloop.pipeline import GroupedNodes, Node, Pipeline, node, pipeline
from dagloop.pipeline.pipeline import (
    CircularDependencyError,
    ConfirmNotUniqueError,
    OutputNotUniqueError,
    _match_namespaces,
)

# ``import dagloop.pipeline.pipeline as m`` would give the ``pipeline`` function,
# which shadows the module as an attribute of the package.
pipeline_module = sys.modules["dagloop.pipeline.pipeline"]


def identity(x):
    return x


def biconcat(a, b):
    return a + b


def constant():
    return 1


def names(pipe: Pipeline) -> list[str]:
    return [n.name for n in pipe.nodes]


def duplicate_names_message(body: str) -> str:
    return (
        "Pipeline nodes must have unique names. The following node names appear "
        f"more than once:\n\n{body}\nYou can name your nodes using the last "
        "argument of 'node()'."
    )


@pytest.fixture
def branching() -> Pipeline:
    """z(b->c), y(a->b), x(a->d): the spec's ordering example."""
    return Pipeline(
        [
            node(identity, "b", "c", name="z"),
            node(identity, "a", "b", name="y"),
            node(identity, "a", "d", name="x"),
        ]
    )


@pytest.fixture
def transcoded() -> Pipeline:
    return Pipeline(
        [
            node(identity, "A", "B@pandas", name="n1"),
            node(identity, "B@spark", "C", name="n2"),
            node(identity, "B@pandas", "D", name="n3"),
            node(biconcat, ["C", "D"], "E", name="n4"),
            node(identity, "params:p", "F", name="n5"),
            node(identity, "parameters", "G@x", name="n6"),
        ]
    )


@pytest.fixture
def tagged() -> Pipeline:
    return Pipeline(
        [
            node(identity, "a", "b", name="n1", tags=["t1"]),
            node(identity, "b", "c", name="n2", tags=["t2"], namespace="ns"),
            node(identity, "c", "d", name="n3", tags=["t1", "t3"]),
            node(identity, "x", "y", name="n4"),
        ]
    )


@pytest.fixture
def namespaced() -> Pipeline:
    return Pipeline(
        [
            node(identity, "a", "b", name="n1", namespace="ns1"),
            node(identity, "b", "c", name="n2", namespace="ns1.sub"),
            node(identity, "c", "d", name="free1"),
            node(identity, "d", "e", name="n3", namespace="ns2"),
            node(biconcat, ["e", "b"], "f", name="free2"),
        ]
    )


class TestConstruction:
    def test_nested_pipelines_are_flattened(self):
        inner = Pipeline([node(identity, "a", "b", name="n1")])
        middle = Pipeline([inner, node(identity, "b", "c", name="n2")])
        outer = Pipeline([middle, node(identity, "c", "d", name="n3")])
        assert names(outer) == ["n1", "n2", "n3"]
        assert all(isinstance(n, Node) for n in outer.nodes)

    def test_single_pipeline_argument(self):
        inner = Pipeline([node(identity, "a", "b", name="n1")])
        outer = Pipeline(inner)
        assert outer is not inner
        assert outer.nodes == inner.nodes

    def test_generator_of_nodes(self):
        nodes = [
            node(identity, "b", "c", name="n2"),
            node(identity, "a", "b", name="n1"),
        ]
        pipe = Pipeline(n for n in nodes)
        assert names(pipe) == ["n1", "n2"]

    def test_tuple_of_nodes(self):
        pipe = Pipeline((node(identity, "a", "b", name="n1"),))
        assert names(pipe) == ["n1"]

    def test_empty_pipeline(self):
        pipe = Pipeline([])
        assert pipe.nodes == []
        assert pipe.grouped_nodes == []
        assert pipe.node_dependencies == {}
        assert pipe.inputs() == set()
        assert pipe.outputs() == set()
        assert pipe.all_inputs() == set()
        assert pipe.all_outputs() == set()
        assert pipe.datasets() == set()
        assert pipe.group_nodes_by() == []

    def test_none_nodes(self):
        with pytest.raises(ValueError) as excinfo:
            Pipeline(None)
        assert str(excinfo.value) == (
            "'nodes' argument of 'Pipeline' is None. It must be an iterable of "
            "nodes and/or pipelines instead."
        )

    @pytest.mark.parametrize("items", [["abc"], [node(identity, "a", "b"), "abc"]])
    def test_element_that_is_not_a_node(self, items):
        with pytest.raises(
            AttributeError, match="'str' object has no attribute 'nodes'"
        ):
            Pipeline(items)

    def test_pipeline_function_builds_pipeline(self):
        pipe = pipeline([node(identity, "a", "b", name="n1")])
        assert isinstance(pipe, Pipeline)
        assert names(pipe) == ["n1"]

    def test_nodes_keep_their_definition(self):
        original = node(identity, {"x": "a"}, ["b"], name="n1", tags="t", confirms="a")
        (stored,) = Pipeline([original]).nodes
        assert stored is original

    def test_pipeline_has_identity_semantics(self):
        one = Pipeline([node(identity, "a", "b", name="n1")])
        two = Pipeline([node(identity, "a", "b", name="n1")])
        assert one != two
        assert len({one, two}) == 2


class TestDuplicateNodeNames:
    def test_free_nodes(self):
        with pytest.raises(ValueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1"),
                    node(identity, "x", "y", name="n1"),
                ]
            )
        assert str(excinfo.value) == duplicate_names_message("Free nodes:\n  - n1\n")

    def test_same_node_twice(self):
        same = node(identity, "a", "b", name="n1")
        with pytest.raises(ValueError) as excinfo:
            Pipeline([same, same])
        assert str(excinfo.value) == duplicate_names_message("Free nodes:\n  - n1\n")

    def test_several_free_duplicates_are_sorted(self):
        n1 = node(identity, "a", "b", name="n1")
        n2 = node(identity, "b", "c", name="n2")
        with pytest.raises(ValueError) as excinfo:
            Pipeline([n2, n1, n2, n1])
        assert str(excinfo.value) == duplicate_names_message(
            "Free nodes:\n  - n1\n  - n2\n"
        )

    def test_group_is_pipeline_where_duplicate_is_seen_second(self):
        first = Pipeline([node(identity, "a", "b", name="n1")])
        second = Pipeline([node(identity, "x", "y", name="n1")])
        with pytest.raises(ValueError) as excinfo:
            Pipeline([first, second])
        assert str(excinfo.value) == duplicate_names_message(
            "Pipeline([Node(identity, 'x', 'y', 'n1')]):\n  - n1\n"
        )

    def test_pipeline_after_free_node(self):
        nested = Pipeline([node(identity, "a", "b", name="n1")])
        with pytest.raises(ValueError) as excinfo:
            Pipeline([node(identity, "x", "y", name="n1"), nested])
        assert str(excinfo.value) == duplicate_names_message(
            "Pipeline([Node(identity, 'a', 'b', 'n1')]):\n  - n1\n"
        )

    def test_free_node_after_pipeline(self):
        nested = Pipeline([node(identity, "a", "b", name="n1")])
        with pytest.raises(ValueError) as excinfo:
            Pipeline([nested, node(identity, "x", "y", name="n1")])
        assert str(excinfo.value) == duplicate_names_message("Free nodes:\n  - n1\n")

    def test_multi_node_pipeline_repr_is_one_line(self):
        n1 = node(identity, "a", "b", name="n1")
        n2 = node(identity, "b", "c", name="n2")
        with pytest.raises(ValueError) as excinfo:
            Pipeline([n1, n2, Pipeline([n1, n2])])
        assert str(excinfo.value) == duplicate_names_message(
            "Pipeline([Node(identity, 'a', 'b', 'n1'),"
            "Node(identity, 'b', 'c', 'n2')]):\n  - n1\n  - n2\n"
        )

    def test_several_groups(self):
        first = Pipeline(
            [node(identity, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        with pytest.raises(ValueError) as excinfo:
            Pipeline(
                [
                    first,
                    node(identity, "q", "r", name="n2"),
                    Pipeline([node(identity, "q2", "r2", name="n1")]),
                ]
            )
        assert str(excinfo.value) == duplicate_names_message(
            "Free nodes:\n  - n2\n"
            "Pipeline([Node(identity, 'q2', 'r2', 'n1')]):\n  - n1\n"
        )

    def test_same_nested_pipeline_twice(self):
        nested = Pipeline([node(identity, "a", "b", name="n1")])
        with pytest.raises(ValueError, match="appear more than once"):
            Pipeline([nested, nested])

    def test_full_names_with_namespace(self):
        with pytest.raises(ValueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns"),
                    node(identity, "x", "y", name="ns.n1"),
                ]
            )
        assert str(excinfo.value) == duplicate_names_message("Free nodes:\n  - ns.n1\n")

    def test_same_short_name_in_different_namespaces_is_fine(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1", namespace="ns1"),
                node(identity, "x", "y", name="n1", namespace="ns2"),
            ]
        )
        assert names(pipe) == ["ns1.n1", "ns2.n1"]


class TestConstructorTags:
    def test_string_tag(self):
        pipe = Pipeline(
            [node(identity, "a", "b", name="n1", tags="t1"), node(identity, "b", "c")],
            tags="extra",
        )
        assert [n.tags for n in pipe.nodes] == [{"t1", "extra"}, {"extra"}]

    def test_list_of_tags(self):
        inner = Pipeline([node(identity, "a", "b", name="n1")])
        pipe = Pipeline([inner], tags=["t2", "t1"])
        assert pipe.nodes[0].tags == {"t1", "t2"}

    def test_source_nodes_untouched(self):
        original = node(identity, "a", "b", name="n1")
        Pipeline([original], tags="extra")
        assert original.tags == set()

    def test_no_tags(self):
        pipe = Pipeline([node(identity, "a", "b", tags="t")], tags=None)
        assert pipe.nodes[0].tags == {"t"}


class TestUniqueness:
    def test_output_not_unique(self):
        with pytest.raises(OutputNotUniqueError) as excinfo:
            Pipeline(
                [node(identity, "a", "d", name="x"), node(identity, "b", "d", name="y")]
            )
        assert str(excinfo.value) == (
            "Output(s) ['d'] are returned by more than one nodes. "
            "Node outputs must be unique."
        )

    def test_several_outputs_not_unique_are_sorted(self):
        with pytest.raises(OutputNotUniqueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", ["e", "d"], name="x"),
                    node(identity, "b", ["d", "e"], name="y"),
                ]
            )
        assert str(excinfo.value) == (
            "Output(s) ['d', 'e'] are returned by more than one nodes. "
            "Node outputs must be unique."
        )

    def test_transcoded_outputs_not_unique(self):
        with pytest.raises(OutputNotUniqueError, match=r"Output\(s\) \['d'\] are"):
            Pipeline(
                [
                    node(identity, "a", "d@pandas", name="x"),
                    node(identity, "b", "d@spark", name="y"),
                ]
            )

    def test_confirm_not_unique(self):
        with pytest.raises(ConfirmNotUniqueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "d", name="x", confirms="other"),
                    node(identity, "b", "e", name="y", confirms=["other"]),
                ]
            )
        assert str(excinfo.value) == (
            "['other'] datasets are confirmed by more than one node. "
            "Node confirms must be unique."
        )

    def test_several_confirms_not_unique_are_sorted(self):
        with pytest.raises(ConfirmNotUniqueError, match=r"^\['o1', 'o2'\] datasets"):
            Pipeline(
                [
                    node(identity, "a", "d", name="x", confirms=["o2", "o1"]),
                    node(identity, "b", "e", name="y", confirms=["o1", "o2"]),
                ]
            )

    def test_transcoded_confirms_not_unique(self):
        with pytest.raises(ConfirmNotUniqueError, match=r"^\['o'\] datasets"):
            Pipeline(
                [
                    node(identity, "a", "d", name="x", confirms="o@pandas"),
                    node(identity, "b", "e", name="y", confirms="o@spark"),
                ]
            )

    def test_confirming_an_output_of_another_node_is_fine(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="x"),
                node(identity, "b", "c", name="y", confirms="b"),
            ]
        )
        assert names(pipe) == ["x", "y"]


class TestCircularDependencies:
    def test_three_node_cycle(self):
        nodes = [
            node(identity, "a", "b", name="x"),
            node(identity, "b", "c", name="y"),
            node(identity, "c", "a", name="z"),
        ]
        with pytest.raises(CircularDependencyError) as excinfo:
            Pipeline(nodes)
        message = str(excinfo.value)
        assert message.startswith(
            "Circular dependencies exist among the following 3 item(s): ["
        )
        for n in nodes:
            assert repr(n) in message

    def test_only_the_cycle_is_reported(self):
        before = node(identity, "i", "q", name="before")
        in_cycle = [
            node(biconcat, ["q", "c"], "b", name="x"),
            node(identity, "b", "c", name="y"),
        ]
        after = node(identity, "c", "d", name="after")
        with pytest.raises(CircularDependencyError) as excinfo:
            Pipeline([before, *in_cycle, after])
        message = str(excinfo.value)
        assert message.startswith(
            "Circular dependencies exist among the following 2 item(s): ["
        )
        assert all(repr(n) in message for n in in_cycle)
        assert repr(before) not in message
        assert repr(after) not in message

    def test_cycle_through_transcoded_names(self):
        with pytest.raises(CircularDependencyError):
            Pipeline(
                [
                    node(identity, "a@pandas", "b@pandas", name="x"),
                    node(identity, "b@spark", "a@spark", name="y"),
                ]
            )


class TestTranscoding:
    def test_dependencies_on_stripped_names(self):
        producer = node(identity, "a", "b@pandas", name="producer")
        consumer = node(identity, "b@spark", "c", name="consumer")
        pipe = Pipeline([consumer, producer])
        assert names(pipe) == ["producer", "consumer"]
        assert pipe.node_dependencies == {consumer: {producer}, producer: set()}

    def test_bare_and_transcoded_reference(self):
        with pytest.raises(ValueError) as excinfo:
            Pipeline(
                [
                    node(identity, "a", "b@pandas", name="x"),
                    node(identity, "b", "c", name="y"),
                ]
            )
        assert str(excinfo.value) == (
            "The following datasets are used with transcoding, but were referenced "
            "without the separator: b.\n"
            "Please specify a transcoding option or rename the datasets."
        )

    def test_bare_and_transcoded_lists_every_base(self):
        # Kedro lists the names in set order; either order is accepted.
        with pytest.raises(
            ValueError, match=r"without the separator: (b, c|c, b)\.\nPlease specify"
        ):
            Pipeline(
                [
                    node(identity, "a", "b@pandas", name="x"),
                    node(identity, "b", "c@x", name="y"),
                    node(identity, "c", "d", name="w"),
                ]
            )

    def test_bare_output_and_transcoded_input(self):
        with pytest.raises(ValueError, match=re.escape("without the separator: b.\n")):
            Pipeline(
                [
                    node(identity, "a", "b", name="x"),
                    node(identity, "b@spark", "c", name="y"),
                ]
            )

    def test_queries_return_full_names(self, transcoded):
        assert transcoded.inputs() == {"A", "params:p", "parameters"}
        assert transcoded.outputs() == {"E", "F", "G@x"}
        assert transcoded.all_inputs() == {
            "A",
            "B@pandas",
            "B@spark",
            "C",
            "D",
            "params:p",
            "parameters",
        }
        assert transcoded.all_outputs() == {"B@pandas", "C", "D", "E", "F", "G@x"}
        assert transcoded.datasets() == {
            "A",
            "B@pandas",
            "B@spark",
            "C",
            "D",
            "E",
            "F",
            "G@x",
            "params:p",
            "parameters",
        }

    def test_free_transcoded_input_keeps_full_name(self):
        pipe = Pipeline([node(identity, "B@pandas", "C", name="x")])
        assert pipe.inputs() == {"B@pandas"}

    def test_intermediate_detected_on_stripped_name(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b@pandas", name="x"),
                node(identity, "b@spark", "c", name="y"),
            ]
        )
        assert pipe.inputs() == {"a"}
        assert pipe.outputs() == {"c"}


class TestOrdering:
    def test_spec_example(self, branching):
        assert names(branching) == ["x", "y", "z"]
        assert [[n.name for n in g] for g in branching.grouped_nodes] == [
            ["x", "y"],
            ["z"],
        ]

    def test_layer_is_longest_path_from_a_root(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="c1"),
                node(identity, "b", "c", name="b1"),
                node(biconcat, ["a", "c"], "d", name="a1"),
                node(identity, "a", "e", name="z9"),
            ]
        )
        assert [[n.name for n in g] for g in pipe.grouped_nodes] == [
            ["c1", "z9"],
            ["b1"],
            ["a1"],
        ]
        assert names(pipe) == ["c1", "z9", "b1", "a1"]

    def test_every_layer_is_sorted_by_name(self):
        pipe = Pipeline(
            [
                node(identity, "b", "c", name="zz"),
                node(identity, "b", "e", name="mm"),
                node(identity, "b", "d", name="aa"),
                node(identity, "a2", "b2", name="r2"),
                node(identity, "a", "b", name="r1"),
            ]
        )
        assert [[n.name for n in g] for g in pipe.grouped_nodes] == [
            ["r1", "r2"],
            ["aa", "mm", "zz"],
        ]

    def test_nodes_without_inputs_are_roots(self):
        pipe = Pipeline(
            [
                node(identity, "x", "y", name="b"),
                node(constant, None, "x", name="a"),
                node(constant, None, "z", name="c"),
            ]
        )
        assert [[n.name for n in g] for g in pipe.grouped_nodes] == [["a", "c"], ["b"]]

    def test_sorted_by_full_name_within_layer(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="a", namespace="zz"),
                node(identity, "c", "d", name="z"),
                node(identity, "e", "f", name="m", namespace="aa"),
            ]
        )
        assert names(pipe) == ["aa.m", "z", "zz.a"]

    def test_independent_of_construction_order(self, branching):
        reversed_pipe = Pipeline(list(reversed(branching.nodes)))
        assert reversed_pipe.nodes == branching.nodes
        assert reversed_pipe.grouped_nodes == branching.grouped_nodes

    def test_returned_lists_are_copies(self, branching):
        branching.nodes.clear()
        branching.grouped_nodes.clear()
        branching.grouped_nodes[0].clear()
        assert names(branching) == ["x", "y", "z"]
        assert [len(g) for g in branching.grouped_nodes] == [2, 1]

    def test_node_dependencies(self, branching):
        z, y, x = branching._nodes
        assert branching.node_dependencies == {z: {y}, y: set(), x: set()}

    def test_node_dependencies_keys_in_construction_order(self, branching):
        assert [n.name for n in branching.node_dependencies] == ["z", "y", "x"]

    def test_node_dependencies_with_several_parents(self):
        p1 = node(identity, "a", "b", name="p1")
        p2 = node(identity, "a", "c", name="p2")
        child = node(biconcat, ["b", "c"], "d", name="child")
        pipe = Pipeline([child, p1, p2])
        assert pipe.node_dependencies[child] == {p1, p2}

    def test_node_dependencies_can_be_patched_on_the_class(self, branching):
        fake = {n: set() for n in branching.nodes}
        with patch.object(
            Pipeline, "node_dependencies", new_callable=PropertyMock
        ) as mocked:
            mocked.return_value = fake
            assert branching.node_dependencies is fake

    def test_stored_order_is_construction_order(self, branching):
        assert [n.name for n in branching._nodes] == ["z", "y", "x"]


class TestDatasetQueries:
    @pytest.fixture
    def pipe(self) -> Pipeline:
        return Pipeline(
            [
                node(biconcat, ["a", "params:p"], "b", name="n1"),
                node(biconcat, {"a": "b", "b": "parameters"}, ["c", "d"], name="n2"),
                node(identity, "c", "e", name="n3"),
            ]
        )

    def test_inputs_include_parameters(self, pipe):
        assert pipe.inputs() == {"a", "params:p", "parameters"}

    def test_outputs(self, pipe):
        assert pipe.outputs() == {"d", "e"}

    def test_all_inputs(self, pipe):
        assert pipe.all_inputs() == {"a", "params:p", "b", "parameters", "c"}

    def test_all_outputs(self, pipe):
        assert pipe.all_outputs() == {"b", "c", "d", "e"}

    def test_datasets(self, pipe):
        assert pipe.datasets() == {"a", "params:p", "parameters", "b", "c", "d", "e"}

    def test_results_are_fresh_sets(self, pipe):
        pipe.inputs().add("zzz")
        pipe.all_outputs().add("zzz")
        pipe.datasets().add("zzz")
        assert "zzz" not in pipe.inputs() | pipe.all_outputs() | pipe.datasets()


class TestDescribe:
    def test_names_only(self, branching):
        assert branching.describe() == (
            "#### Pipeline execution order ####\n"
            "Inputs: a\n"
            "\n"
            "x\n"
            "y\n"
            "z\n"
            "\n"
            "Outputs: c, d\n"
            "##################################"
        )

    def test_full_node_strings(self, branching):
        assert branching.describe(names_only=False) == (
            "#### Pipeline execution order ####\n"
            "Inputs: a\n"
            "\n"
            "x: identity([a]) -> [d]\n"
            "y: identity([a]) -> [b]\n"
            "z: identity([b]) -> [c]\n"
            "\n"
            "Outputs: c, d\n"
            "##################################"
        )

    def test_empty_pipeline(self):
        assert Pipeline([]).describe() == (
            "#### Pipeline execution order ####\n"
            "Inputs: None\n"
            "\n"
            "\n"
            "\n"
            "Outputs: None\n"
            "##################################"
        )

    def test_namespaced_and_unnamed_nodes(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1", namespace="ns"),
                node(identity, "b", "c@x", namespace="ns"),
            ]
        )
        auto_name = pipe.nodes[1].name
        assert auto_name.startswith("ns.identity__")
        assert pipe.describe() == (
            "#### Pipeline execution order ####\n"
            "Inputs: a\n\n"
            f"ns.n1\n{auto_name}\n\n"
            "Outputs: c@x\n"
            "##################################"
        )
        assert pipe.describe(names_only=False) == (
            "#### Pipeline execution order ####\n"
            "Inputs: a\n\n"
            "n1: identity([a]) -> [b]\n"
            "identity([b]) -> [c@x]\n\n"
            "Outputs: c@x\n"
            "##################################"
        )

    def test_no_inputs(self):
        pipe = Pipeline([node(constant, None, "out", name="n")])
        assert "Inputs: None\n" in pipe.describe()
        assert "Outputs: out\n" in pipe.describe()


class TestToJson:
    def test_structure(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="y", tags=["t2", "t1"]),
                node(biconcat, {"a": "x", "b": "b"}, ["c"], name="w", namespace="ns"),
            ]
        )
        assert json.loads(pipe.to_json()) == {
            "kedro_version": dagloop.__version__,
            "pipeline": [
                {"name": "y", "inputs": ["a"], "outputs": ["b"], "tags": ["t1", "t2"]},
                {
                    "name": "ns.w",
                    "inputs": ["x", "b"],
                    "outputs": ["c"],
                    "tags": [],
                },
            ],
        }

    def test_nodes_in_construction_order(self, branching):
        data = json.loads(branching.to_json())
        assert [entry["name"] for entry in data["pipeline"]] == ["z", "y", "x"]

    def test_empty(self):
        assert json.loads(Pipeline([]).to_json()) == {
            "kedro_version": dagloop.__version__,
            "pipeline": [],
        }

    def test_is_a_string(self, branching):
        assert isinstance(branching.to_json(), str)


class TestRepr:
    def test_nodes_in_topological_order(self, branching):
        assert repr(branching) == (
            "Pipeline([\n"
            "Node(identity, 'a', 'd', 'x'),\n"
            "Node(identity, 'a', 'b', 'y'),\n"
            "Node(identity, 'b', 'c', 'z')\n"
            "])"
        )

    def test_empty(self):
        assert repr(Pipeline([])) == "Pipeline([])"

    def test_ten_nodes_are_all_shown(self):
        pipe = Pipeline(
            [node(identity, f"a{i}", f"b{i}", name=f"n{i:02}") for i in range(10)]
        )
        lines = repr(pipe).split("\n")
        assert len(lines) == 12
        assert lines[-2] == "Node(identity, 'a9', 'b9', 'n09')"
        assert "..." not in repr(pipe)

    def test_more_than_ten_nodes_are_truncated(self):
        pipe = Pipeline(
            [node(identity, f"a{i}", f"b{i}", name=f"n{i:02}") for i in range(11)]
        )
        expected = (
            "Pipeline([\n"
            + "".join(
                f"Node(identity, 'a{i}', 'b{i}', 'n{i:02}'),\n" for i in range(10)
            )
            + "...\n])"
        )
        assert repr(pipe) == expected


class TestOperators:
    @pytest.fixture
    def nodes(self) -> tuple[Node, Node, Node]:
        return (
            node(identity, "a", "b", name="n1"),
            node(identity, "b", "c", name="n2"),
            node(identity, "c", "d", name="n3"),
        )

    @pytest.mark.parametrize("op", ["add", "or"])
    def test_union_deduplicates_equal_nodes(self, nodes, op):
        n1, n2, n3 = nodes
        left, right = Pipeline([n1, n2]), Pipeline([n2, n3])
        result = left + right if op == "add" else left | right
        assert isinstance(result, Pipeline)
        assert result is not left
        assert names(result) == ["n1", "n2", "n3"]

    def test_union_of_pipeline_with_itself(self, nodes):
        pipe = Pipeline(nodes)
        assert names(pipe + pipe) == ["n1", "n2", "n3"]

    def test_union_dedups_nodes_equal_but_with_other_function(self, nodes):
        n1, n2, _ = nodes
        same_key = node(lambda x: x, "a", "b", name="n1", tags="other")
        assert names(Pipeline([n1, n2]) + Pipeline([same_key])) == ["n1", "n2"]

    def test_union_same_name_different_definition(self, nodes):
        n1, n2, _ = nodes
        with pytest.raises(ValueError) as excinfo:
            Pipeline([n1, n2]) + Pipeline([node(identity, "x", "y", name="n1")])
        assert str(excinfo.value) == duplicate_names_message("Free nodes:\n  - n1\n")

    def test_union_clashing_outputs(self, nodes):
        with pytest.raises(OutputNotUniqueError, match=r"\['b'\]"):
            Pipeline(nodes) + Pipeline([node(identity, "x", "b", name="other")])

    def test_union_clashing_confirms(self):
        left = Pipeline([node(identity, "x", "y", name="q", confirms="z")])
        right = Pipeline([node(identity, "x2", "y2", name="r", confirms="z")])
        with pytest.raises(ConfirmNotUniqueError, match=r"\['z'\]"):
            left + right

    def test_difference(self, nodes):
        n1, n2, n3 = nodes
        assert names(Pipeline([n1, n2]) - Pipeline([n2, n3])) == ["n1"]

    def test_difference_uses_node_equality(self, nodes):
        n1, n2, _ = nodes
        other_n1 = node(identity, "a", "b2", name="n1")
        assert names(Pipeline([n1, n2]) - Pipeline([other_n1])) == ["n1", "n2"]

    def test_intersection(self, nodes):
        n1, n2, n3 = nodes
        assert names(Pipeline([n1, n2]) & Pipeline([n2, n3])) == ["n2"]

    def test_intersection_uses_node_equality(self, nodes):
        n1, n2, _ = nodes
        same_key = node(lambda x: x, "a", "b", name="n1")
        assert names(Pipeline([n1, n2]) & Pipeline([same_key])) == ["n1"]

    def test_empty_intersection(self, nodes):
        n1, _, n3 = nodes
        assert (Pipeline([n1]) & Pipeline([n3])).nodes == []

    def test_sum(self, nodes):
        n1, n2, n3 = nodes
        total = sum([Pipeline([n1]), Pipeline([n2]), Pipeline([n3])])
        assert isinstance(total, Pipeline)
        assert names(total) == ["n1", "n2", "n3"]

    def test_zero_plus_pipeline_is_the_pipeline(self, nodes):
        pipe = Pipeline(nodes)
        assert (0 + pipe) is pipe

    def test_operands_unchanged(self, nodes):
        n1, n2, n3 = nodes
        left, right = Pipeline([n1, n2]), Pipeline([n2, n3])
        _ = left + right, left - right, left & right
        assert names(left) == ["n1", "n2"]
        assert names(right) == ["n2", "n3"]

    @pytest.mark.parametrize(
        ("op", "symbol"),
        [
            (lambda p, o: p + o, "+"),
            (lambda p, o: p | o, "|"),
            (lambda p, o: p - o, "-"),
            (lambda p, o: p & o, "&"),
        ],
    )
    def test_non_pipeline_right_operand(self, nodes, op, symbol):
        pipe = Pipeline(nodes)
        with pytest.raises(TypeError) as excinfo:
            op(pipe, "x")
        assert str(excinfo.value) == (
            f"unsupported operand type(s) for {symbol}: 'Pipeline' and 'str'"
        )

    def test_pipeline_plus_node(self, nodes):
        with pytest.raises(TypeError, match="'Pipeline' and 'Node'"):
            Pipeline(nodes[:1]) + nodes[2]

    def test_non_zero_left_operand(self, nodes):
        with pytest.raises(TypeError, match="'int' and 'Pipeline'"):
            1 + Pipeline(nodes)


class TestGroupNodesBy:
    @pytest.mark.parametrize("group_by", [None, "namespace", "Namespace"])
    def test_by_namespace(self, namespaced, group_by):
        kwargs = {} if group_by is None else {"group_by": group_by}
        assert namespaced.group_nodes_by(**kwargs) == [
            GroupedNodes(
                name="ns1",
                type="namespace",
                nodes=["ns1.n1", "ns1.sub.n2"],
                dependencies=[],
            ),
            GroupedNodes(
                name="free1", type="nodes", nodes=["free1"], dependencies=["ns1"]
            ),
            GroupedNodes(
                name="ns2", type="namespace", nodes=["ns2.n3"], dependencies=["free1"]
            ),
            GroupedNodes(
                name="free2", type="nodes", nodes=["free2"], dependencies=["ns1", "ns2"]
            ),
        ]

    @pytest.mark.parametrize("group_by", [None, "none", "NONE", "None"])
    def test_no_grouping(self, namespaced, group_by):
        assert namespaced.group_nodes_by(group_by) == [
            GroupedNodes(name="ns1.n1", type="nodes", nodes=["ns1.n1"]),
            GroupedNodes(
                name="ns1.sub.n2",
                type="nodes",
                nodes=["ns1.sub.n2"],
                dependencies=["ns1.n1"],
            ),
            GroupedNodes(
                name="free1", type="nodes", nodes=["free1"], dependencies=["ns1.sub.n2"]
            ),
            GroupedNodes(
                name="ns2.n3", type="nodes", nodes=["ns2.n3"], dependencies=["free1"]
            ),
            GroupedNodes(
                name="free2",
                type="nodes",
                nodes=["free2"],
                dependencies=["ns1.n1", "ns2.n3"],
            ),
        ]

    def test_invalid_strategy(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.group_nodes_by("x")
        assert str(excinfo.value) == "Unsupported group_by strategy: x"

    def test_dependencies_deduplicated(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="p1", namespace="src"),
                node(identity, "a", "c", name="p2", namespace="src"),
                node(biconcat, ["b", "c"], "d", name="c1", namespace="dst"),
            ]
        )
        groups = pipe.group_nodes_by("namespace")
        assert groups == [
            GroupedNodes(name="src", type="namespace", nodes=["src.p1", "src.p2"]),
            GroupedNodes(
                name="dst", type="namespace", nodes=["dst.c1"], dependencies=["src"]
            ),
        ]

    def test_grouped_nodes_compare_by_value(self):
        assert GroupedNodes(name="a", type="nodes") == GroupedNodes(
            name="a", type="nodes", nodes=[], dependencies=[]
        )
        assert GroupedNodes(name="a", type="nodes") != GroupedNodes(
            name="a", type="namespace"
        )


class TestOnlyNodes:
    def test_selects_by_full_name(self, namespaced):
        assert names(namespaced.only_nodes("free1", "ns1.n1")) == ["free1", "ns1.n1"]

    def test_result_is_new_pipeline(self, namespaced):
        selected = namespaced.only_nodes("free1")
        assert selected is not namespaced
        assert len(namespaced.nodes) == 5

    def test_unknown_name(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes("zzz")
        assert str(excinfo.value) == "Pipeline does not contain nodes named ['zzz']."

    def test_unknown_name_repeated_is_listed_once(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes("zzz", "zzz")
        assert str(excinfo.value) == "Pipeline does not contain nodes named ['zzz']."

    def test_did_you_mean(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes("n1")
        assert str(excinfo.value) == (
            "Pipeline does not contain nodes named ['n1']. Did you mean: ['ns1.n1']?"
        )

    def test_did_you_mean_several(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes("n1", "zzz", "n2", "free1")
        message = str(excinfo.value)
        missing, hint = re.fullmatch(
            r"Pipeline does not contain nodes named \[(.*)\]\. Did you mean: \[(.*)\]\?",
            message,
        ).groups()
        assert sorted(missing.split(", ")) == ["'n1'", "'n2'", "'zzz'"]
        assert sorted(hint.split(", ")) == ["'ns1.n1'", "'ns1.sub.n2'"]

    def test_suffix_must_follow_a_dot(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes("ree1")
        assert "Did you mean" not in str(excinfo.value)


class TestOnlyNodesWithNamespaces:
    def test_includes_nested_namespaces(self, namespaced):
        selected = namespaced.only_nodes_with_namespaces(["ns1"])
        assert names(selected) == ["ns1.n1", "ns1.sub.n2"]

    def test_nested_namespace_only(self, namespaced):
        selected = namespaced.only_nodes_with_namespaces(["ns1.sub"])
        assert names(selected) == ["ns1.sub.n2"]

    def test_several_namespaces(self, namespaced):
        selected = namespaced.only_nodes_with_namespaces(["ns2", "ns1.sub"])
        assert names(selected) == ["ns1.sub.n2", "ns2.n3"]

    def test_unknown_namespaces_listed_in_given_order(self, namespaced):
        with pytest.raises(ValueError) as excinfo:
            namespaced.only_nodes_with_namespaces(["ns3", "ns1", "ns"])
        assert str(excinfo.value) == (
            "Pipeline does not contain nodes with the following namespaces: "
            "['ns3', 'ns']"
        )

    def test_partial_segment_does_not_match(self, namespaced):
        with pytest.raises(ValueError, match=r"namespaces: \['ns1.s'\]"):
            namespaced.only_nodes_with_namespaces(["ns1.s"])

    def test_string_prefix_is_not_a_namespace_prefix(self):
        pipe = Pipeline([node(identity, "a", "b", name="n", namespace="ns10")])
        with pytest.raises(ValueError, match=r"namespaces: \['ns1'\]"):
            pipe.only_nodes_with_namespaces(["ns1"])


class TestOnlyNodesWithTags:
    def test_single_tag(self, tagged):
        assert names(tagged.only_nodes_with_tags("t1")) == ["n1", "n3"]

    def test_any_of_several_tags(self, tagged):
        assert names(tagged.only_nodes_with_tags("t1", "t2")) == ["n1", "ns.n2", "n3"]

    def test_no_tags_gives_empty_pipeline(self, tagged):
        assert tagged.only_nodes_with_tags().nodes == []

    def test_unknown_tag_gives_empty_pipeline(self, tagged):
        assert tagged.only_nodes_with_tags("zz").nodes == []

    def test_tags_added_by_pipeline(self, tagged):
        pipe = Pipeline([tagged, node(identity, "q", "r", name="n5")], tags="all")
        assert len(pipe.only_nodes_with_tags("all").nodes) == 5


class TestDatasetSelection:
    @pytest.mark.parametrize(
        ("method", "args", "expected"),
        [
            ("only_nodes_with_inputs", ("B",), ["n2", "n3"]),
            ("only_nodes_with_inputs", ("B@spark",), ["n2"]),
            ("only_nodes_with_inputs", ("B@pandas",), ["n3"]),
            ("only_nodes_with_inputs", ("C",), ["n4"]),
            ("only_nodes_with_inputs", ("A", "C"), ["n1", "n4"]),
            ("only_nodes_with_inputs", ("E",), []),
            ("only_nodes_with_inputs", ("G",), []),
            ("only_nodes_with_inputs", ("params:p",), ["n5"]),
            ("only_nodes_with_inputs", ("parameters",), ["n6"]),
            ("from_inputs", ("B",), ["n2", "n3", "n4"]),
            ("from_inputs", ("B@spark",), ["n2", "n4"]),
            ("from_inputs", ("B@pandas",), ["n3", "n4"]),
            ("from_inputs", ("A",), ["n1", "n2", "n3", "n4"]),
            ("from_inputs", ("C",), ["n4"]),
            ("from_inputs", ("E",), []),
            ("from_inputs", ("params:p", "parameters"), ["n5", "n6"]),
            ("only_nodes_with_outputs", ("B",), ["n1"]),
            ("only_nodes_with_outputs", ("B@pandas",), ["n1"]),
            ("only_nodes_with_outputs", ("B@spark",), []),
            ("only_nodes_with_outputs", ("G",), ["n6"]),
            ("only_nodes_with_outputs", ("G@x",), ["n6"]),
            ("only_nodes_with_outputs", ("C", "E"), ["n2", "n4"]),
            ("only_nodes_with_outputs", ("A",), []),
            ("only_nodes_with_outputs", ("params:p",), []),
            ("to_outputs", ("B",), ["n1"]),
            ("to_outputs", ("B@spark",), []),
            ("to_outputs", ("C",), ["n1", "n2"]),
            ("to_outputs", ("E",), ["n1", "n2", "n3", "n4"]),
            ("to_outputs", ("D", "G@x"), ["n1", "n6", "n3"]),
            ("to_outputs", ("A",), []),
        ],
    )
    def test_selection(self, transcoded, method, args, expected):
        assert names(getattr(transcoded, method)(*args)) == expected

    @pytest.mark.parametrize(
        "method",
        [
            "only_nodes_with_inputs",
            "from_inputs",
            "only_nodes_with_outputs",
            "to_outputs",
        ],
    )
    @pytest.mark.parametrize(
        ("args", "missing"),
        [
            (("zz",), "['zz']"),
            (("zz", "yy"), "['yy', 'zz']"),
            (("B", "zz"), "['zz']"),
            (("B@other",), "['B@other']"),
            (("G@y",), "['G@y']"),
        ],
    )
    def test_unknown_datasets(self, transcoded, method, args, missing):
        with pytest.raises(ValueError) as excinfo:
            getattr(transcoded, method)(*args)
        assert (
            str(excinfo.value) == f"Pipeline does not contain datasets named {missing}"
        )

    def test_downstream_through_transcoded_output(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b@pandas", name="n1"),
                node(identity, "b@spark", "c", name="n2"),
                node(identity, "c", "d", name="n3"),
            ]
        )
        assert names(pipe.from_inputs("a")) == ["n1", "n2", "n3"]
        assert names(pipe.to_outputs("d")) == ["n1", "n2", "n3"]


class TestFromToNodes:
    def test_from_nodes(self, transcoded):
        assert names(transcoded.from_nodes("n1")) == ["n1", "n2", "n3", "n4"]
        assert names(transcoded.from_nodes("n2")) == ["n2", "n4"]

    def test_from_nodes_several(self, transcoded):
        assert names(transcoded.from_nodes("n2", "n5")) == ["n2", "n5", "n4"]

    def test_from_leaf_node(self, transcoded):
        assert names(transcoded.from_nodes("n4")) == ["n4"]

    def test_to_nodes(self, transcoded):
        assert names(transcoded.to_nodes("n4")) == ["n1", "n2", "n3", "n4"]
        assert names(transcoded.to_nodes("n3")) == ["n1", "n3"]

    def test_to_root_node(self, transcoded):
        assert names(transcoded.to_nodes("n1")) == ["n1"]

    @pytest.mark.parametrize("method", ["from_nodes", "to_nodes"])
    def test_unknown_node(self, transcoded, method):
        with pytest.raises(ValueError) as excinfo:
            getattr(transcoded, method)("nX")
        assert str(excinfo.value) == "Pipeline does not contain nodes named ['nX']."

    @pytest.mark.parametrize("method", ["from_nodes", "to_nodes"])
    def test_did_you_mean(self, namespaced, method):
        with pytest.raises(ValueError, match=r"Did you mean: \['ns2.n3'\]\?"):
            getattr(namespaced, method)("n3")


class TestFilter:
    def test_no_arguments_copies(self, tagged):
        filtered = tagged.filter()
        assert filtered is not tagged
        assert filtered.nodes == tagged.nodes

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"tags": ["t1"]}, ["n1", "n3"]),
            ({"from_nodes": ["ns.n2"]}, ["ns.n2", "n3"]),
            ({"to_nodes": ["ns.n2"]}, ["n1", "ns.n2"]),
            ({"node_names": ["n4", "n1"]}, ["n1", "n4"]),
            ({"from_inputs": ["b"]}, ["ns.n2", "n3"]),
            ({"to_outputs": ["c"]}, ["n1", "ns.n2"]),
            ({"node_namespaces": ["ns"]}, ["ns.n2"]),
        ],
    )
    def test_single_filter(self, tagged, kwargs, expected):
        assert names(tagged.filter(**kwargs)) == expected

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"tags": ["t1", "t2"], "from_nodes": ["ns.n2"]}, ["ns.n2", "n3"]),
            (
                {"from_inputs": ["a"], "to_outputs": ["c"], "tags": ["t2"]},
                ["ns.n2"],
            ),
            ({"from_nodes": ["n1"], "to_nodes": ["n3"]}, ["n1", "ns.n2", "n3"]),
            ({"node_names": ["n1", "n4"], "to_outputs": ["d"]}, ["n1"]),
        ],
    )
    def test_filters_are_intersected(self, tagged, kwargs, expected):
        assert names(tagged.filter(**kwargs)) == expected

    def test_filters_are_not_chained(self, tagged):
        # Chaining tags then from_nodes would fail: ns.n2 is not tagged t1.
        with pytest.raises(ValueError, match="does not contain nodes"):
            tagged.only_nodes_with_tags("t1").from_nodes("ns.n2")
        assert names(tagged.filter(tags=["t1"], from_nodes=["ns.n2"])) == ["n3"]

    def test_order_independent(self, tagged):
        one = tagged.filter(tags=["t1", "t2"], to_nodes=["n3"], from_inputs=["b"])
        two = tagged.filter(from_inputs=["b"], to_nodes=["n3"], tags=["t1", "t2"])
        expected = (
            tagged.only_nodes_with_tags("t1", "t2")
            & tagged.to_nodes("n3")
            & tagged.from_inputs("b")
        )
        assert one.nodes == two.nodes == expected.nodes
        assert names(one) == ["ns.n2", "n3"]

    @pytest.mark.parametrize("kwargs", [{"tags": []}, {"node_names": None}])
    def test_falsy_arguments_are_ignored(self, tagged, kwargs):
        assert tagged.filter(**kwargs).nodes == tagged.nodes

    def test_empty_result(self, tagged):
        with pytest.raises(ValueError) as excinfo:
            tagged.filter(tags=["t2"], node_names=["n4"])
        assert str(excinfo.value) == (
            "Pipeline contains no nodes after applying all provided filters. "
            "Please ensure that at least one pipeline with nodes has been defined."
        )

    def test_empty_pipeline_without_filters(self):
        with pytest.raises(ValueError, match="contains no nodes after applying"):
            Pipeline([]).filter()

    def test_errors_of_the_selection_methods_propagate(self, tagged):
        with pytest.raises(ValueError, match=r"nodes named \['zz'\]"):
            tagged.filter(node_names=["zz"])
        with pytest.raises(ValueError, match=r"datasets named \['zz'\]"):
            tagged.filter(from_inputs=["zz"])
        with pytest.raises(ValueError, match=r"namespaces: \['zz'\]"):
            tagged.filter(node_namespaces=["zz"])


class TestTag:
    def test_adds_tags_to_every_node(self, tagged):
        result = tagged.tag(["new", "t1"])
        assert [sorted(n.tags) for n in result.nodes] == [
            ["new", "t1"],
            ["new", "t1"],
            ["new", "t1", "t2"],
            ["new", "t1", "t3"],
        ]

    def test_single_string(self, tagged):
        result = tagged.tag("new")
        assert all("new" in n.tags for n in result.nodes)

    def test_returns_new_pipeline(self, tagged):
        result = tagged.tag("new")
        assert result is not tagged
        assert all("new" not in n.tags for n in tagged.nodes)
        assert names(result) == names(tagged)


class TestNamespaceInterruption:
    def test_left_and_reentered(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2"),
                    node(identity, "c", "d", name="n3", namespace="ns1"),
                ]
            )
        assert [str(w.message) for w in record] == [
            "Namespace 'ns1' is interrupted by nodes ['n2'] and thus invalid."
        ]

    def test_path_through_several_nodes(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2", namespace="ns2"),
                    node(identity, "c", "x", name="n2b"),
                    node(identity, "x", "d", name="n3", namespace="ns1"),
                ]
            )
        assert [str(w.message) for w in record] == [
            "Namespace 'ns1' is interrupted by nodes ['ns2.n2', 'n2b'] and thus invalid."
        ]

    def test_top_level_namespace_of_nested_ones(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1.sub"),
                    node(identity, "b", "c", name="n2", namespace="ns2"),
                    node(identity, "c", "d", name="n3", namespace="ns1.other"),
                ]
            )
        assert [str(w.message) for w in record] == [
            "Namespace 'ns1' is interrupted by nodes ['ns2.n2'] and thus invalid."
        ]

    def test_sibling_child_namespace_interrupts(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1.sub"),
                    node(identity, "b", "c", name="n2", namespace="ns1.x"),
                    node(identity, "c", "d", name="n3", namespace="ns1.sub"),
                ]
            )
        assert [str(w.message) for w in record] == [
            "Namespace 'ns1.sub' is interrupted by nodes ['ns1.x.n2'] and thus invalid."
        ]

    def test_diamond(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2"),
                    node(biconcat, ["b", "c"], "d", name="n3", namespace="ns1"),
                ]
            )
        assert [str(w.message) for w in record] == [
            "Namespace 'ns1' is interrupted by nodes ['n2'] and thus invalid."
        ]

    def test_each_interruption_warns(self):
        with pytest.warns(UserWarning, match="is interrupted by nodes") as record:
            Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2"),
                    node(identity, "c", "d", name="n3", namespace="ns1"),
                    node(identity, "d", "e", name="n4"),
                    node(identity, "e", "f", name="n5", namespace="ns1"),
                ]
            )
        messages = [str(w.message) for w in record]
        assert len(messages) == 2
        assert messages[0] == (
            "Namespace 'ns1' is interrupted by nodes ['n2'] and thus invalid."
        )
        assert messages[1].startswith("Namespace 'ns1' is interrupted by nodes [")
        assert messages[1].endswith("'n4'] and thus invalid.")

    def test_through_namespaced_pipelines(self):
        with pytest.warns(UserWarning, match="Namespace 'ns1' is interrupted"):
            pipeline(
                [
                    pipeline(
                        [node(identity, "a", "b", name="n1")],
                        namespace="ns1",
                        inputs="a",
                        outputs="b",
                    ),
                    node(identity, "b", "c", name="n2"),
                    pipeline(
                        [node(identity, "c", "d", name="n3")],
                        namespace="ns1",
                        inputs="c",
                        outputs="d",
                    ),
                ]
            )

    def test_child_namespace_does_not_warn(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pipe = Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2", namespace="ns1.child"),
                    node(identity, "c", "d", name="n3", namespace="ns1"),
                ]
            )
        assert names(pipe) == ["ns1.n1", "ns1.child.n2", "ns1.n3"]

    def test_parallel_branches_do_not_warn(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pipe = Pipeline(
                [
                    node(identity, "a", "b", name="n1", namespace="ns1"),
                    node(identity, "b", "c", name="n2", namespace="ns2"),
                    node(identity, "b", "d", name="n3", namespace="ns3"),
                    node(biconcat, ["c", "d"], "e", name="n4", namespace="ns4"),
                ]
            )
        assert len(pipe.nodes) == 4

    def test_leaving_without_returning_does_not_warn(self, namespaced):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Pipeline(namespaced.nodes)

    def test_large_fan_out_fan_in(self):
        nodes = []
        for i in range(20):
            source = "start" if i == 0 else f"join_{i - 1}"
            ns = f"ns_{i}"
            nodes.append(
                node(identity, source, f"split_{i}", name="split", namespace=ns)
            )
            middles = [f"mid_{i}_{j}" for j in range(30)]
            nodes.extend(
                node(identity, f"split_{i}", mid, name=mid, namespace=ns)
                for mid in middles
            )
            nodes.append(
                node(lambda *a: a, middles, f"join_{i}", name="join", namespace=ns)
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pipe = Pipeline(nodes)
        assert len(pipe.nodes) == 640
        assert len(pipe.grouped_nodes) == 60
        assert pipe.inputs() == {"start"}
        assert pipe.outputs() == {"join_19"}


class TestDeprecatedAlias:
    def test_transcoding_separator_alias_warns(self):
        with pytest.warns(
            dagloop.KedroDeprecationWarning,
            match="'TRANSCODING_SEPARATOR' has been moved",
        ):
            value = pipeline_module.TRANSCODING_SEPARATOR
        assert value == "@"

    def test_warning_is_a_deprecation_warning(self):
        assert issubclass(dagloop.KedroDeprecationWarning, DeprecationWarning)

    def test_other_attributes_raise(self):
        with pytest.raises(AttributeError):
            _ = pipeline_module.NOT_THERE


class TestMatchNamespaces:
    @pytest.mark.parametrize(
        ("node_namespace", "filter_namespace", "expected"),
        [
            ("ns1", "ns1", True),
            ("ns1.ns2", "ns1", True),
            ("ns1.ns2.ns3", "ns1.ns2", True),
            ("ns10", "ns1", False),
            ("ns1", "ns1.ns2", False),
            ("a.b", "b", False),
            ("ns1.ns2", "ns1.ns", False),
        ],
    )
    def test_segment_prefix(self, node_namespace, filter_namespace, expected):
        assert _match_namespaces(node_namespace, filter_namespace) is expected
