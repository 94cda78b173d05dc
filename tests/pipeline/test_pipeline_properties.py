"""Property tests: pipelines built from random DAGs, checked against brute force."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from dagloop.pipeline import Node, Pipeline, node

# Modest example counts keep the whole file at a few seconds.
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def combine(*args):
    return args


@dataclass(frozen=True)
class RandomDag:
    """A DAG over node indices: ``parents[i]`` are indices smaller than ``i``."""

    parents: tuple[frozenset[int], ...]
    free_inputs: tuple[bool, ...]
    names: tuple[str, ...]

    def build_nodes(self) -> list[Node]:
        nodes = []
        for i, parents in enumerate(self.parents):
            inputs = [f"ds_{p}" for p in sorted(parents)]
            if self.free_inputs[i]:
                inputs.append(f"raw_{i}")
            nodes.append(node(combine, inputs, f"ds_{i}", name=self.names[i]))
        return nodes

    @property
    def size(self) -> int:
        return len(self.parents)

    def children(self, i: int) -> set[int]:
        return {c for c in range(self.size) if i in self.parents[c]}

    def depth(self) -> list[int]:
        """Length of the longest path from a root to each node."""
        depth: list[int] = []
        for parents in self.parents:  # parents always come earlier
            depth.append(1 + max(depth[p] for p in parents) if parents else 0)
        return depth

    def closure(self, start: set[int], step) -> set[int]:
        seen = set(start)
        frontier = list(start)
        while frontier:
            for nxt in step(frontier.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return seen


@st.composite
def random_dags(draw, max_nodes: int = 12) -> RandomDag:
    size = draw(st.integers(min_value=1, max_value=max_nodes))
    parents = tuple(
        frozenset(draw(st.sets(st.integers(0, i - 1), max_size=3)))
        if i
        else frozenset()
        for i in range(size)
    )
    # Any node may also read a free input; a root without one reads nothing
    # (``inputs=[]`` is a valid node).
    free_inputs = tuple(draw(st.booleans()) for _ in range(size))
    # Names in an order unrelated to the graph, so sorting by name is observable.
    names = tuple(
        draw(
            st.lists(
                st.text("abcdefgh", min_size=1, max_size=4),
                min_size=size,
                max_size=size,
                unique=True,
            )
        )
    )
    return RandomDag(parents, free_inputs, names)


def name_sets(nodes: list[Node]) -> set[str]:
    return {n.name for n in nodes}


class TestOrdering:
    @PROPERTY_SETTINGS
    @given(random_dags())
    def test_nodes_is_a_topological_order(self, dag):
        pipe = Pipeline(dag.build_nodes())
        position = {n.name: i for i, n in enumerate(pipe.nodes)}
        assert len(position) == dag.size
        for child in range(dag.size):
            for parent in dag.parents[child]:
                assert position[dag.names[parent]] < position[dag.names[child]]

    @PROPERTY_SETTINGS
    @given(random_dags())
    def test_layers_are_longest_path_depths_sorted_by_name(self, dag):
        pipe = Pipeline(dag.build_nodes())
        depth = dag.depth()
        expected = [
            sorted(dag.names[i] for i in range(dag.size) if depth[i] == layer)
            for layer in range(max(depth) + 1)
        ]
        assert [[n.name for n in g] for g in pipe.grouped_nodes] == expected
        assert [n.name for n in pipe.nodes] == [name for g in expected for name in g]

    @PROPERTY_SETTINGS
    @given(random_dags(), st.randoms(use_true_random=False))
    def test_independent_of_input_order(self, dag, rnd):
        nodes = dag.build_nodes()
        shuffled = nodes[:]
        rnd.shuffle(shuffled)
        one, two = Pipeline(nodes), Pipeline(shuffled)
        assert one.nodes == two.nodes
        assert one.grouped_nodes == two.grouped_nodes
        assert one.node_dependencies == two.node_dependencies
        assert one.inputs() == two.inputs()
        assert one.outputs() == two.outputs()

    @PROPERTY_SETTINGS
    @given(random_dags())
    def test_node_dependencies_are_the_parents(self, dag):
        nodes = dag.build_nodes()
        deps = Pipeline(nodes).node_dependencies
        assert list(deps) == nodes
        for i, n in enumerate(nodes):
            assert deps[n] == {nodes[p] for p in dag.parents[i]}


class TestDatasetQueries:
    @PROPERTY_SETTINGS
    @given(random_dags())
    def test_inputs_and_outputs_match_brute_force(self, dag):
        nodes = dag.build_nodes()
        pipe = Pipeline(nodes)
        all_inputs = {name for n in nodes for name in n.inputs}
        all_outputs = {name for n in nodes for name in n.outputs}
        assert pipe.all_inputs() == all_inputs
        assert pipe.all_outputs() == all_outputs
        assert pipe.inputs() == all_inputs - all_outputs
        assert pipe.outputs() == all_outputs - all_inputs
        assert pipe.datasets() == all_inputs | all_outputs
        assert pipe.inputs() == {
            f"raw_{i}" for i in range(dag.size) if dag.free_inputs[i]
        }
        assert pipe.outputs() == {
            f"ds_{i}" for i in range(dag.size) if not dag.children(i)
        }


class TestReachability:
    @PROPERTY_SETTINGS
    @given(random_dags(), st.data())
    def test_from_nodes_is_downstream_closure(self, dag, data):
        start = data.draw(st.sets(st.integers(0, dag.size - 1), min_size=1))
        pipe = Pipeline(dag.build_nodes())
        reached = dag.closure(start, dag.children)
        result = pipe.from_nodes(*(dag.names[i] for i in start))
        assert name_sets(result.nodes) == {dag.names[i] for i in reached}

    @PROPERTY_SETTINGS
    @given(random_dags(), st.data())
    def test_to_nodes_is_upstream_closure(self, dag, data):
        end = data.draw(st.sets(st.integers(0, dag.size - 1), min_size=1))
        pipe = Pipeline(dag.build_nodes())
        reached = dag.closure(end, lambda i: dag.parents[i])
        result = pipe.to_nodes(*(dag.names[i] for i in end))
        assert name_sets(result.nodes) == {dag.names[i] for i in reached}

    @PROPERTY_SETTINGS
    @given(random_dags(), st.data())
    def test_from_inputs_and_to_outputs(self, dag, data):
        pipe = Pipeline(dag.build_nodes())
        i = data.draw(st.integers(0, dag.size - 1))
        # Consumers of ds_i, then everything downstream of them.
        consumers = dag.children(i)
        downstream = dag.closure(consumers, dag.children)
        assert name_sets(pipe.from_inputs(f"ds_{i}").nodes) == {
            dag.names[c] for c in downstream
        }
        upstream = dag.closure({i}, lambda j: dag.parents[j])
        assert name_sets(pipe.to_outputs(f"ds_{i}").nodes) == {
            dag.names[u] for u in upstream
        }

    @PROPERTY_SETTINGS
    @given(random_dags(), st.data())
    def test_selection_keeps_topological_order(self, dag, data):
        pipe = Pipeline(dag.build_nodes())
        start = data.draw(st.sets(st.integers(0, dag.size - 1), min_size=1))
        selected = pipe.from_nodes(*(dag.names[i] for i in start))
        selected_order = [n.name for n in selected.nodes]
        # Layers may shift within the subset, but parents still come first.
        position = {name: k for k, name in enumerate(selected_order)}
        for child in range(dag.size):
            for parent in dag.parents[child]:
                if dag.names[parent] in position and dag.names[child] in position:
                    assert position[dag.names[parent]] < position[dag.names[child]]
