"""Tests for namespacing and remapping with ``pipeline(pipe, inputs=, outputs=, ...)``.

Expected values and messages were checked against Kedro 1.1.1 running the same
scenarios.
"""

from __future__ import annotations

import re

import pytest

from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.pipeline.pipeline import PipelineError


def identity(x):
    return x


def biconcat(a, b):
    return a + b


def constant():
    return 1


def to_dict(x):
    return {"k": x}


def describe_nodes(pipe: Pipeline) -> list[tuple]:
    """Each node's name, namespace and raw inputs/outputs/confirms, in order."""
    return [
        (n.name, n.namespace, n._inputs, n._outputs, n._confirms) for n in pipe.nodes
    ]


def mapping_error(missing: str, suggestions: str | None = None) -> str:
    message = (
        "Failed to map datasets and/or parameters onto the nodes provided: " + missing
    )
    if suggestions is not None:
        message += " - did you mean one of these instead: " + suggestions
    return message


@pytest.fixture
def base() -> Pipeline:
    """A -> n1 -> B -> n2 -> C -> n3 -> D, with ``params:p1`` and ``parameters``."""
    return Pipeline(
        [
            node(biconcat, ["A", "params:p1"], "B", name="n1"),
            node(identity, {"x": "B"}, "C", name="n2"),
            node(biconcat, ["C", "parameters"], ["D"], name="n3"),
        ]
    )


@pytest.fixture
def transcoded() -> Pipeline:
    return Pipeline(
        [
            node(identity, "A@spark", "B@pandas", name="n1"),
            node(identity, "B@spark", "C", name="n2", confirms="A@spark"),
            node(identity, "X@x", ["D"], name="n3", confirms=["C"]),
        ]
    )


class TestNamespace:
    def test_prefixes_everything(self, base):
        assert describe_nodes(pipeline(base, namespace="ns")) == [
            ("ns.n1", "ns", ["ns.A", "params:ns.p1"], "ns.B", None),
            ("ns.n2", "ns", {"x": "ns.B"}, "ns.C", None),
            ("ns.n3", "ns", ["ns.C", "parameters"], ["ns.D"], None),
        ]

    def test_returns_a_pipeline(self, base):
        assert isinstance(pipeline(base, namespace="ns"), Pipeline)

    def test_list_of_nodes(self):
        pipe = pipeline([node(identity, "a", "b", name="n")], namespace="ns")
        assert describe_nodes(pipe) == [("ns.n", "ns", "ns.a", "ns.b", None)]

    def test_list_of_pipelines(self):
        first = Pipeline([node(identity, "a", "b", name="n1")])
        second = Pipeline([node(identity, "b", "c", name="n2")])
        pipe = pipeline([first, second], namespace="ns", outputs="c")
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", "ns.a", "ns.b", None),
            ("ns.n2", "ns", "ns.b", "c", None),
        ]

    def test_unnamed_node_gets_new_auto_name(self):
        original = node(identity, "a", "b")
        pipe = pipeline([original], namespace="ns")
        (copied,) = pipe.nodes
        # The hash covers the renamed datasets, so the base name changes too.
        expected = node(identity, "ns.a", "ns.b", namespace="ns").name
        assert copied.name == expected
        expected_base = expected.removeprefix("ns.")
        assert expected_base != original.name
        assert expected_base.startswith("identity__")

    def test_explicit_name_is_prefixed(self):
        pipe = pipeline([node(identity, "a", "b", name="named")], namespace="ns")
        assert pipe.nodes[0].name == "ns.named"
        assert pipe.only_nodes("ns.named").nodes == pipe.nodes

    def test_existing_node_namespace_is_nested(self):
        inner = Pipeline([node(identity, "a", "b", name="n", namespace="q")])
        (copied,) = pipeline(inner, namespace="ns").nodes
        assert copied.namespace == "ns.q"
        assert copied.name == "ns.q.n"
        assert copied.inputs == ["ns.a"]

    def test_nested_pipelines(self):
        inner = Pipeline(
            [node(identity, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        pipe = pipeline(pipeline(inner, namespace="inner"), namespace="outer")
        assert describe_nodes(pipe) == [
            ("outer.inner.n1", "outer.inner", "outer.inner.a", "outer.inner.b", None),
            ("outer.inner.n2", "outer.inner", "outer.inner.b", "outer.inner.c", None),
        ]

    def test_nested_parameters(self):
        inner = Pipeline([node(identity, "params:x", "y", name="n")])
        pipe = pipeline(pipeline(inner, namespace="inner"), namespace="outer")
        assert describe_nodes(pipe) == [
            (
                "outer.inner.n",
                "outer.inner",
                "params:outer.inner.x",
                "outer.inner.y",
                None,
            )
        ]

    def test_nested_mapping_of_kept_input(self):
        inner = Pipeline(
            [node(identity, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        pipe = pipeline(
            pipeline(inner, namespace="inner", inputs="a"),
            namespace="outer",
            inputs={"a": "z"},
        )
        assert describe_nodes(pipe) == [
            ("outer.inner.n1", "outer.inner", "z", "outer.inner.b", None),
            ("outer.inner.n2", "outer.inner", "outer.inner.b", "outer.inner.c", None),
        ]

    def test_dotted_parameter_name(self):
        pipe = pipeline([node(identity, "params:a.b", "c", name="n")], namespace="ns")
        assert describe_nodes(pipe) == [("ns.n", "ns", "params:ns.a.b", "ns.c", None)]

    def test_duplicate_names_after_namespacing(self):
        namespaced = pipeline([node(identity, "a", "b", name="n")], namespace="x")
        with pytest.raises(ValueError, match=re.escape("Free nodes:\n  - x.n\n")):
            pipeline([namespaced, node(identity, "c", "d", name="x.n")])

    def test_tags_added(self, base):
        pipe = pipeline(base, namespace="ns", tags="t")
        assert all(n.tags == {"t"} for n in pipe.nodes)

    def test_tags_only(self, base):
        pipe = pipeline(base, tags=["t1", "t2"])
        assert describe_nodes(pipe) == describe_nodes(base)
        assert all(n.tags == {"t1", "t2"} for n in pipe.nodes)

    def test_no_arguments_gives_a_copy(self, base):
        pipe = pipeline(base)
        assert pipe is not base
        assert pipe.nodes == base.nodes


class TestMappingNormalisation:
    def test_string(self, base):
        pipe = pipeline(base, namespace="ns", inputs="A", outputs="D")
        assert pipe.inputs() == {"A", "params:ns.p1", "parameters"}
        assert pipe.outputs() == {"D"}

    def test_set(self, base):
        pipe = pipeline(base, namespace="ns", inputs={"A"}, outputs={"D"})
        assert pipe.inputs() == {"A", "params:ns.p1", "parameters"}
        assert pipe.outputs() == {"D"}

    def test_list(self, base):
        pipe = pipeline(base, namespace="ns", inputs=["A"], outputs=["D", "B"])
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["A", "params:ns.p1"], "B", None),
            ("ns.n2", "ns", {"x": "B"}, "ns.C", None),
            ("ns.n3", "ns", ["ns.C", "parameters"], ["D"], None),
        ]

    def test_dict(self, base):
        pipe = pipeline(base, namespace="ns", inputs={"A": "A2"}, outputs={"D": "D2"})
        assert pipe.inputs() == {"A2", "params:ns.p1", "parameters"}
        assert pipe.outputs() == {"D2"}

    def test_dict_is_not_mutated(self, base):
        inputs = {"A": "A2"}
        pipeline(base, namespace="ns", inputs=inputs)
        assert inputs == {"A": "A2"}

    def test_mapping_without_namespace(self, base):
        pipe = pipeline(base, inputs={"A": "Z"})
        assert describe_nodes(pipe) == [
            ("n1", None, ["Z", "params:p1"], "B", None),
            ("n2", None, {"x": "B"}, "C", None),
            ("n3", None, ["C", "parameters"], ["D"], None),
        ]

    def test_two_inputs_mapped_to_one_name(self):
        pipe = pipeline(
            [node(biconcat, ["a", "a2"], "b", name="n")], inputs={"a": "x", "a2": "x"}
        )
        assert describe_nodes(pipe) == [("n", None, ["x", "x"], "b", None)]


class TestParameters:
    @pytest.mark.parametrize(
        "parameters", ["p1", "params:p1", ["p1"], ["params:p1"], {"p1"}, {"p1": "p1"}]
    )
    def test_kept_parameter_is_not_prefixed(self, base, parameters):
        pipe = pipeline(base, namespace="ns", parameters=parameters)
        assert pipe.nodes[0].inputs == ["ns.A", "params:p1"]

    @pytest.mark.parametrize(
        "parameters",
        [
            {"p1": "q"},
            {"params:p1": "q"},
            {"p1": "params:q"},
            {"params:p1": "params:q"},
        ],
    )
    def test_renamed_parameter(self, base, parameters):
        pipe = pipeline(base, namespace="ns", parameters=parameters)
        assert pipe.nodes[0].inputs == ["ns.A", "params:q"]

    def test_parameters_are_prefixed_after_params(self, base):
        pipe = pipeline(base, namespace="ns")
        assert pipe.inputs() == {"ns.A", "params:ns.p1", "parameters"}

    def test_all_parameters_never_renamed(self, base):
        pipe = pipeline(base, namespace="ns", parameters="parameters")
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["ns.A", "params:ns.p1"], "ns.B", None),
            ("ns.n2", "ns", {"x": "ns.B"}, "ns.C", None),
            ("ns.n3", "ns", ["ns.C", "parameters"], ["ns.D"], None),
        ]

    def test_all_parameters_maps_to_itself(self, base):
        pipe = pipeline(base, parameters={"parameters": "x"})
        assert pipe.nodes[2].inputs == ["C", "parameters"]

    def test_mapped_names_combined(self, base):
        pipe = pipeline(
            base,
            namespace="ns",
            inputs={"A": "A2"},
            outputs={"D": "D2"},
            parameters={"p1": "q"},
        )
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["A2", "params:q"], "ns.B", None),
            ("ns.n2", "ns", {"x": "ns.B"}, "ns.C", None),
            ("ns.n3", "ns", ["ns.C", "parameters"], ["D2"], None),
        ]


class TestValidation:
    def test_unknown_input_with_suggestion(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs="AA")
        assert str(excinfo.value) == mapping_error("AA", "A")

    def test_unknown_input_without_suggestion(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs="zzzz")
        assert str(excinfo.value) == mapping_error("zzzz")

    def test_unknown_names_sorted_and_suggestions(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs=["AA", "zzzz"], outputs="DD", parameters="p2")
        assert str(excinfo.value) == mapping_error(
            "AA, DD, params:p2, zzzz", "A, D, params:p1, parameters"
        )

    def test_unknown_parameter(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, parameters="p2")
        assert str(excinfo.value) == mapping_error("params:p2", "params:p1, parameters")

    def test_unknown_prefixed_parameter(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, parameters="params:zzzzzz")
        assert str(excinfo.value) == mapping_error("params:zzzzzz", "params:p1")

    def test_dataset_given_as_parameter(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, parameters="A")
        assert str(excinfo.value) == mapping_error("params:A", "params:p1, parameters")

    def test_unknown_transcoded_base(self, transcoded):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(transcoded, inputs="Q@zz")
        assert str(excinfo.value) == mapping_error("Q")

    def test_existence_checked_before_roles(self, base):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs="zz", outputs="A")
        assert str(excinfo.value) == mapping_error("zz")

    @pytest.mark.parametrize("inputs", ["params:p1", "parameters", {"params:p1": "x"}])
    def test_parameters_in_inputs(self, base, inputs):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs=inputs)
        assert str(excinfo.value) == (
            "Parameters should be specified in the 'parameters' argument"
        )

    @pytest.mark.parametrize("inputs", ["B", "C", {"D": "x"}])
    def test_input_that_is_not_free(self, base, inputs):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, inputs=inputs)
        assert str(excinfo.value) == (
            "Inputs must not be outputs from another node in the same pipeline"
        )

    def test_transcoded_input_that_is_not_free(self, transcoded):
        with pytest.raises(PipelineError, match="Inputs must not be outputs"):
            pipeline(transcoded, inputs="B@spark")

    @pytest.mark.parametrize("outputs", ["A", {"A": "x"}, "params:p1"])
    def test_output_that_is_a_free_input(self, base, outputs):
        with pytest.raises(PipelineError) as excinfo:
            pipeline(base, outputs=outputs)
        assert str(excinfo.value) == (
            "All outputs must be generated by some node within the pipeline"
        )

    @pytest.mark.parametrize("outputs", ["A", "A@zz"])
    def test_transcoded_output_that_is_a_free_input(self, transcoded, outputs):
        with pytest.raises(PipelineError, match="All outputs must be generated"):
            pipeline(transcoded, outputs=outputs)

    def test_error_leaves_input_pipeline_untouched(self, base):
        before = describe_nodes(base)
        with pytest.raises(PipelineError):
            pipeline(base, namespace="ns", inputs="B")
        assert describe_nodes(base) == before


class TestIntermediateOutputs:
    def test_renamed_intermediate(self, base):
        pipe = pipeline(base, namespace="ns", outputs={"B": "B2"})
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["ns.A", "params:ns.p1"], "B2", None),
            ("ns.n2", "ns", {"x": "B2"}, "ns.C", None),
            ("ns.n3", "ns", ["ns.C", "parameters"], ["ns.D"], None),
        ]

    def test_kept_intermediate(self, base):
        pipe = pipeline(base, namespace="ns", outputs="C")
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["ns.A", "params:ns.p1"], "ns.B", None),
            ("ns.n2", "ns", {"x": "ns.B"}, "C", None),
            ("ns.n3", "ns", ["C", "parameters"], ["ns.D"], None),
        ]
        # Still consumed inside, so not a free output of the namespaced pipeline.
        assert pipe.outputs() == {"ns.D"}
        assert "C" in pipe.all_outputs()


class TestRenamingRules:
    def test_exact_mapping_beats_transcoded_base_mapping(self):
        pipe = Pipeline(
            [
                node(identity, "A@spark", "B", name="n1"),
                node(identity, "A@pandas", "C", name="n2"),
            ]
        )
        renamed = pipeline(pipe, inputs={"A": "X", "A@spark": "Y"}, namespace="ns")
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "Y", "ns.B", None),
            ("ns.n2", "ns", "X@pandas", "ns.C", None),
        ]

    def test_transcoded_base_mapping_keeps_suffix(self, transcoded):
        renamed = pipeline(
            transcoded, namespace="ns", inputs={"A": "AA"}, outputs={"B": "BB"}
        )
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "AA@spark", "BB@pandas", None),
            ("ns.n3", "ns", "ns.X@x", ["ns.D"], ["ns.C"]),
            ("ns.n2", "ns", "BB@spark", "ns.C", "AA@spark"),
        ]

    def test_transcoded_full_name_mapping(self, transcoded):
        renamed = pipeline(transcoded, namespace="ns", inputs={"A@spark": "AA@s"})
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "AA@s", "ns.B@pandas", None),
            ("ns.n3", "ns", "ns.X@x", ["ns.D"], ["ns.C"]),
            ("ns.n2", "ns", "ns.B@spark", "ns.C", "AA@s"),
        ]

    def test_transcoded_full_name_mapped_to_plain_name(self, transcoded):
        renamed = pipeline(transcoded, inputs={"A@spark": "AA"})
        assert renamed.inputs() == {"AA", "X@x"}

    @pytest.mark.parametrize("inputs", ["X", "X@x"])
    def test_kept_transcoded_input(self, transcoded, inputs):
        renamed = pipeline(transcoded, namespace="ns", inputs=inputs)
        assert renamed.inputs() == {"ns.A@spark", "X@x"}

    def test_unmapped_transcoded_names_are_prefixed(self, transcoded):
        assert describe_nodes(pipeline(transcoded, namespace="ns")) == [
            ("ns.n1", "ns", "ns.A@spark", "ns.B@pandas", None),
            ("ns.n3", "ns", "ns.X@x", ["ns.D"], ["ns.C"]),
            ("ns.n2", "ns", "ns.B@spark", "ns.C", "ns.A@spark"),
        ]

    def test_transcoded_output_mapped_by_base(self):
        pipe = Pipeline(
            [
                node(identity, "a", "B@pandas", name="n1"),
                node(identity, "B@spark", "c", name="n2"),
            ]
        )
        renamed = pipeline(pipe, outputs={"B": "Z"}, namespace="ns")
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "ns.a", "Z@pandas", None),
            ("ns.n2", "ns", "Z@spark", "ns.c", None),
        ]
        assert renamed.node_dependencies[renamed.nodes[1]] == {renamed.nodes[0]}

    def test_transcoded_output_mapped_by_full_name_only_renames_that_variant(self):
        pipe = Pipeline(
            [
                node(identity, "a", "B@pandas", name="n1"),
                node(identity, "B@spark", "c", name="n2"),
            ]
        )
        renamed = pipeline(pipe, outputs="B@pandas", namespace="ns")
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "ns.a", "B@pandas", None),
            ("ns.n2", "ns", "ns.B@spark", "ns.c", None),
        ]


class TestWithoutDatasetPrefix:
    def test_only_node_namespaces_change(self, base):
        pipe = pipeline(base, namespace="ns", prefix_datasets_with_namespace=False)
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["A", "params:p1"], "B", None),
            ("ns.n2", "ns", {"x": "B"}, "C", None),
            ("ns.n3", "ns", ["C", "parameters"], ["D"], None),
        ]

    def test_explicit_mappings_still_apply(self, base):
        pipe = pipeline(
            base,
            namespace="ns",
            inputs={"A": "Z"},
            parameters={"p1": "q"},
            prefix_datasets_with_namespace=False,
        )
        assert describe_nodes(pipe) == [
            ("ns.n1", "ns", ["Z", "params:q"], "B", None),
            ("ns.n2", "ns", {"x": "B"}, "C", None),
            ("ns.n3", "ns", ["C", "parameters"], ["D"], None),
        ]

    def test_nested(self):
        inner = Pipeline(
            [node(identity, "a", "b", name="n1"), node(identity, "b", "c", name="n2")]
        )
        namespaced = pipeline(inner, namespace="inner")
        # "inner.a" under namespace "outer.inner" does not match the first segment.
        with pytest.warns(UserWarning, match=r"Dataset name 'inner\.\w'") as record:
            pipe = pipeline(
                namespaced, namespace="outer", prefix_datasets_with_namespace=False
            )
        assert {str(w.message).split("'")[1] for w in record} == {
            "inner.a",
            "inner.b",
            "inner.c",
        }
        assert describe_nodes(pipe) == [
            ("outer.inner.n1", "outer.inner", "inner.a", "inner.b", None),
            ("outer.inner.n2", "outer.inner", "inner.b", "inner.c", None),
        ]


class TestConfirms:
    def test_confirms_are_prefixed(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1", confirms="a"),
                node(identity, "b", "c", name="n2", confirms=["b", "c"]),
            ]
        )
        renamed = pipeline(pipe, namespace="ns")
        assert [n._confirms for n in renamed.nodes] == ["ns.a", ["ns.b", "ns.c"]]
        assert [n.confirms for n in renamed.nodes] == [["ns.a"], ["ns.b", "ns.c"]]

    def test_confirms_follow_mappings(self):
        pipe = Pipeline(
            [
                node(identity, "a", "b", name="n1", confirms="a"),
                node(identity, "b", "c", name="n2", confirms=["b"]),
            ]
        )
        renamed = pipeline(pipe, namespace="ns", inputs={"a": "z"}, outputs="b")
        assert [n._confirms for n in renamed.nodes] == ["z", ["b"]]

    def test_no_confirms_stay_none(self, base):
        renamed = pipeline(base, namespace="ns")
        assert all(n._confirms is None for n in renamed.nodes)


class TestShapesPreserved:
    def test_string_list_dict_and_none(self):
        pipe = Pipeline(
            [
                node(identity, "a", ["b"], name="n1"),
                node(identity, {"x": "b"}, "c", name="n2"),
                node(to_dict, {"x": "c"}, {"k": "d"}, name="n3"),
                node(identity, ["d"], None, name="n4"),
                node(constant, [], "e", name="n5"),
                node(constant, None, "f", name="n6"),
            ]
        )
        renamed = pipeline(pipe, namespace="ns")
        assert describe_nodes(renamed) == [
            ("ns.n1", "ns", "ns.a", ["ns.b"], None),
            ("ns.n5", "ns", [], "ns.e", None),
            ("ns.n6", "ns", None, "ns.f", None),
            ("ns.n2", "ns", {"x": "ns.b"}, "ns.c", None),
            ("ns.n3", "ns", {"x": "ns.c"}, {"k": "ns.d"}, None),
            ("ns.n4", "ns", ["ns.d"], None, None),
        ]

    def test_copied_nodes_still_run(self):
        pipe = pipeline(
            [node(to_dict, {"x": "a"}, {"k": "b"}, name="n")], namespace="ns"
        )
        assert pipe.nodes[0].run({"ns.a": 1}) == {"ns.b": 1}


class TestInputPipelineNotMutated:
    def test_namespacing(self, base):
        before = describe_nodes(base)
        before_nodes = base.nodes
        pipeline(
            base,
            namespace="ns",
            inputs={"A": "Z"},
            outputs="D",
            parameters={"p1": "q"},
            tags="t",
        )
        assert describe_nodes(base) == before
        assert base.nodes == before_nodes
        assert all(n.tags == set() for n in base.nodes)
        assert base.inputs() == {"A", "params:p1", "parameters"}

    def test_node_objects_are_copies(self, base):
        renamed = pipeline(base, namespace="ns")
        original_ids = {id(n) for n in base.nodes}
        assert not any(id(n) in original_ids for n in renamed.nodes)

    def test_tags_only_copy(self, base):
        pipeline(base, tags="t")
        assert all(n.tags == set() for n in base.nodes)

    def test_reusing_the_same_pipeline_twice(self, base):
        both = pipeline(
            [pipeline(base, namespace="one"), pipeline(base, namespace="two")]
        )
        assert len(both.nodes) == 6
        assert both.inputs() == {
            "one.A",
            "two.A",
            "params:one.p1",
            "params:two.p1",
            "parameters",
        }
