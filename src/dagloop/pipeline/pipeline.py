"""Pipelines: a validated DAG of nodes connected by dataset names.

A :class:`Pipeline` is immutable once built. Its node order is deterministic: nodes
are layered by the length of their longest path from a root, and sorted by name
within a layer. Every query is computed once and cached, and every step of building
one is linear in the number of nodes and edges, so pipelines of tens of thousands of
nodes build in well under a second.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import dagloop
from dagloop.pipeline import _remap
from dagloop.pipeline._errors import (
    CircularDependencyError,
    ConfirmNotUniqueError,
    OutputNotUniqueError,
    PipelineError,
)
from dagloop.pipeline._graph import find_cycle, layers
from dagloop.pipeline._namespace_check import warn_on_interrupted_namespaces
from dagloop.pipeline.node import GroupedNodes, Node, _to_list
from dagloop.pipeline.transcoding import _strip_transcoding

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "OutputNotUniqueError",
    "Pipeline",
    "PipelineError",
    "pipeline",
]


def __getattr__(name: str) -> Any:
    """Serve the deprecated ``TRANSCODING_SEPARATOR`` alias with a warning."""
    if name == "TRANSCODING_SEPARATOR":
        import warnings

        from dagloop.pipeline.transcoding import TRANSCODING_SEPARATOR

        warnings.warn(
            f"{name!r} has been moved to 'dagloop.pipeline.transcoding', "
            f"and the alias will be removed in a future release.",
            dagloop.KedroDeprecationWarning,
            stacklevel=2,
        )
        return TRANSCODING_SEPARATOR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Names = str | set[str] | list[str] | dict[str, str] | None


class Pipeline:
    """A DAG of :class:`Node` objects, in a deterministic topological order."""

    def __init__(
        self,
        nodes: Iterable[Node | Pipeline] | Pipeline,
        *,
        inputs: Names = None,
        outputs: Names = None,
        parameters: Names = None,
        tags: str | Iterable[str] | None = None,
        namespace: str | None = None,
        prefix_datasets_with_namespace: bool = True,
    ) -> None:
        """Build a pipeline from nodes and/or pipelines (which are flattened).

        Args:
            nodes: Nodes and pipelines to combine, or one pipeline.
            inputs: Free inputs to keep (a name or names) or rename (``{old: new}``)
                when namespacing.
            outputs: Outputs to keep or rename when namespacing; may name
                intermediate datasets to expose them.
            parameters: Parameters to keep or rename (``params:`` is optional).
            tags: Tags added to every node.
            namespace: Namespace for every node and, unless
                ``prefix_datasets_with_namespace`` is false, every dataset name not
                kept by the arguments above.
            prefix_datasets_with_namespace: Whether ``namespace`` also prefixes
                dataset names, or only groups nodes.

        Raises:
            ValueError: On duplicate node names, ``None`` nodes or inconsistent
                transcoding.
            OutputNotUniqueError: When two nodes produce the same dataset.
            ConfirmNotUniqueError: When two nodes confirm the same dataset.
            CircularDependencyError: When the dependencies form a cycle.
            PipelineError: When a namespacing mapping does not fit the nodes.
        """
        if isinstance(nodes, Pipeline):
            nodes = nodes.nodes
        if any([inputs, outputs, parameters, namespace]):
            nodes = self._map_nodes(
                nodes, inputs, outputs, parameters, tags, namespace,
                prefix_datasets_with_namespace,
            )  # fmt: skip
        if nodes is None:
            raise ValueError(
                "'nodes' argument of 'Pipeline' is None. It must be an "
                "iterable of nodes and/or pipelines instead."
            )
        items = list(nodes)  # nodes may be a generator
        _validate_duplicate_nodes(items)
        flat = list(chain.from_iterable(_flatten(item) for item in items))
        _validate_transcoded_inputs_outputs(flat)
        extra_tags = set(_to_list(tags))
        if extra_tags:
            flat = [n.tag(extra_tags) for n in flat]
        _validate_unique("outputs", flat)
        _validate_unique("confirms", flat)
        self._nodes = flat
        self._index_datasets()
        self._build_graph()
        if any(n.namespace for n in flat):
            warn_on_interrupted_namespaces(flat, self._order, self._parent_index)

    def _index_datasets(self) -> None:
        """Index nodes by name and by the (stripped) datasets they read and write."""
        self._nodes_by_name = {n.name: n for n in self._nodes}
        # A dict used as an ordered set: deterministic, and a node that reads a
        # dataset twice is still listed once.
        by_input: dict[str, dict[Node, None]] = defaultdict(dict)
        by_output: dict[str, Node] = {}
        for node in self._nodes:
            for name in node.inputs:
                by_input[_strip_transcoding(name)][node] = None
            for name in node.outputs:
                by_output[_strip_transcoding(name)] = node
        self._nodes_by_input = by_input
        self._nodes_by_output = by_output

    def _build_graph(self) -> None:
        """Link each node to its parents by index, then layer the graph.

        Raises:
            CircularDependencyError: When the graph has a cycle.
        """
        producer = {
            _strip_transcoding(name): i
            for i, n in enumerate(self._nodes)
            for name in n.outputs
        }
        self._parent_index = [
            sorted(
                {
                    producer[s]
                    for name in n.inputs
                    if (s := _strip_transcoding(name)) in producer
                }
            )
            for n in self._nodes
        ]
        names = [n.name for n in self._nodes]
        grouped, stuck = layers(self._parent_index, names)
        if stuck:
            loop = [self._nodes[i] for i in find_cycle(self._parent_index, stuck)]
            error = CircularDependencyError(
                f"Circular dependencies exist among the following "
                f"{len(loop)} item(s): {loop}"
            )
            error.add_note(
                "Each of these nodes needs, directly or not, an output of another: "
                "a pipeline must be acyclic. Rename a dataset or split a node so "
                "that no node depends on its own output."
            )
            raise error
        self._order = [i for layer in grouped for i in layer]
        self._layers = [[self._nodes[i] for i in layer] for layer in grouped]

    # ------------------------------------------------------------------ repr, ops

    def __repr__(self) -> str:
        shown = [repr(n) for n in self.nodes[:10]]
        if len(self._nodes) > 10:
            shown.append("...")
        body = "[\n" + ",\n".join(shown) + "\n]" if shown else "[]"
        return f"{type(self).__name__}({body})"

    def __add__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return Pipeline(dict.fromkeys(self._nodes + other._nodes))

    def __radd__(self, other: object) -> Pipeline:
        if isinstance(other, int) and other == 0:
            return self  # lets sum([p1, p2]) work
        return self.__add__(other)

    def __or__(self, other: object) -> Pipeline:
        return self.__add__(other)

    def __sub__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        removed = set(other._nodes)
        return Pipeline([n for n in self._nodes if n not in removed])

    def __and__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        kept = set(other._nodes)
        return Pipeline([n for n in self._nodes if n in kept])

    # ------------------------------------------------------------ dataset queries

    @cached_property
    def _all_inputs(self) -> frozenset[str]:
        return frozenset(chain.from_iterable(n.inputs for n in self._nodes))

    @cached_property
    def _all_outputs(self) -> frozenset[str]:
        return frozenset(chain.from_iterable(n.outputs for n in self._nodes))

    @cached_property
    def _intermediates(self) -> frozenset[str]:
        stripped_in = {_strip_transcoding(name) for name in self._all_inputs}
        return (
            frozenset(_strip_transcoding(name) for name in self._all_outputs)
            & stripped_in
        )

    def all_inputs(self) -> set[str]:
        """Every input name of every node."""
        return set(self._all_inputs)

    def all_outputs(self) -> set[str]:
        """Every output name of every node."""
        return set(self._all_outputs)

    @cached_property
    def _free_inputs(self) -> frozenset[str]:
        inner = self._intermediates
        return frozenset(
            d for d in self._all_inputs if _strip_transcoding(d) not in inner
        )

    @cached_property
    def _free_outputs(self) -> frozenset[str]:
        inner = self._intermediates
        return frozenset(
            d for d in self._all_outputs if _strip_transcoding(d) not in inner
        )

    def inputs(self) -> set[str]:
        """Free inputs: what must be provided for the pipeline to run."""
        return set(self._free_inputs)

    def outputs(self) -> set[str]:
        """Free outputs: what the pipeline produces and nothing inside consumes."""
        return set(self._free_outputs)

    def datasets(self) -> set[str]:
        """Every dataset name the pipeline uses."""
        return set(self._all_outputs | self._all_inputs)

    def _transcode_compatible_names(self) -> set[str]:
        return {_strip_transcoding(name) for name in self.datasets()}

    def describe(self, names_only: bool = True) -> str:
        """A printable summary: inputs, nodes in execution order, outputs.

        Args:
            names_only: List node names only, rather than ``str(node)``.
        """

        def listing(names: set[str]) -> str:
            return ", ".join(sorted(names)) if names else "None"

        nodes = "\n".join(n.name if names_only else str(n) for n in self.nodes)
        return (
            "#### Pipeline execution order ####\n"
            f"Inputs: {listing(self.inputs())}\n\n"
            f"{nodes}\n\n"
            f"Outputs: {listing(self.outputs())}\n"
            "##################################"
        )

    def to_json(self) -> str:
        """The pipeline as JSON: each node's name, inputs, outputs and tags.

        The version key keeps Kedro's name (``kedro_version``) so tools that read
        Kedro's format read this one; it holds dagloop's version.
        """
        nodes = [
            {
                "name": n.name,
                "inputs": n.inputs,
                "outputs": n.outputs,
                "tags": sorted(n.tags),
            }
            for n in self._nodes
        ]
        return json.dumps({"kedro_version": dagloop.__version__, "pipeline": nodes})

    # ---------------------------------------------------------------- graph/order

    @cached_property
    def node_dependencies(self) -> dict[Node, set[Node]]:
        """Each node mapped to the set of nodes it directly depends on."""
        nodes = self._nodes
        return {
            nodes[i]: {nodes[p] for p in ps} for i, ps in enumerate(self._parent_index)
        }

    @cached_property
    def _readiness(self) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
        """For a scheduler, by position in ``nodes``: how many parents each node
        has, and its children in ``nodes`` order. Built once per pipeline (it is
        immutable), so a run copies one list instead of hashing every node."""
        position = {i: k for k, i in enumerate(self._order)}
        counts = tuple(len(self._parent_index[i]) for i in self._order)
        children: list[list[int]] = [[] for _ in self._order]
        for k, i in enumerate(self._order):
            for parent in self._parent_index[i]:
                children[position[parent]].append(k)
        return counts, tuple(tuple(c) for c in children)

    @cached_property
    def _load_counts(self) -> dict[str, int]:
        """How many nodes read each dataset (a node reading one twice counts twice)."""
        return dict(Counter(chain.from_iterable(n.inputs for n in self._nodes)))

    def _parents_of(self, node: Node) -> list[Node]:
        """``node``'s parents sorted by name."""
        return sorted(self.node_dependencies[node], key=lambda n: n.name)

    @property
    def nodes(self) -> list[Node]:
        """The nodes in topological order (longest-path layers, by name within one)."""
        return list(self._ordered)

    @cached_property
    def _ordered(self) -> list[Node]:
        return [self._nodes[i] for i in self._order]

    @property
    def grouped_nodes(self) -> list[list[Node]]:
        """The nodes in topological layers; a node's layer is its longest path from a root."""
        return [list(layer) for layer in self._layers]

    def group_nodes_by(self, group_by: str | None = "namespace") -> list[GroupedNodes]:
        """Group nodes for deployment: by top-level namespace, or one per node.

        Args:
            group_by: ``"namespace"``, or ``None``/``"none"`` for no grouping.

        Raises:
            ValueError: For any other strategy.
        """
        if group_by is None or group_by.lower() == "none":
            return [
                GroupedNodes(
                    name=n.name,
                    type="nodes",
                    nodes=[n.name],
                    dependencies=[p.name for p in self._parents_of(n)],
                )
                for n in self.nodes
            ]
        if group_by.lower() == "namespace":
            return self._group_by_namespace()
        raise ValueError(f"Unsupported group_by strategy: {group_by}")

    def _group_by_namespace(self) -> list[GroupedNodes]:
        def key(n: Node) -> str:
            return n.namespace.split(".")[0] if n.namespace else n.name

        groups: dict[str, GroupedNodes] = {}
        for node in self.nodes:
            group_key = key(node)
            if group_key not in groups:
                kind = "namespace" if node.namespace else "nodes"
                groups[group_key] = GroupedNodes(name=group_key, type=kind)
            group = groups[group_key]
            group.nodes.append(node.name)
            for parent in self._parents_of(node):
                parent_key = key(parent)
                if parent_key != group_key and parent_key not in group.dependencies:
                    group.dependencies.append(parent_key)
        return list(groups.values())

    # ----------------------------------------------------------------- selection

    def _subset(self, chosen: Iterable[Node]) -> Pipeline:
        """A new pipeline of ``chosen`` nodes, kept in this pipeline's order."""
        keep = set(chosen)
        return Pipeline([n for n in self._nodes if n in keep])

    def only_nodes(self, *node_names: str) -> Pipeline:
        """Only the nodes with these full names.

        Raises:
            ValueError: When a name is unknown (suggesting namespaced names that end
                with it).
        """
        unknown = [n for n in dict.fromkeys(node_names) if n not in self._nodes_by_name]
        if unknown:
            candidates = [
                name
                for missing in unknown
                for name in self._nodes_by_name
                if name.endswith(f".{missing}")
            ]
            hint = f" Did you mean: {candidates}?" if candidates else ""
            raise ValueError(f"Pipeline does not contain nodes named {unknown}.{hint}")
        return self._subset(self._nodes_by_name[name] for name in node_names)

    def only_nodes_with_namespaces(self, node_namespaces: list[str]) -> Pipeline:
        """Only the nodes inside any of these namespaces (nested ones included).

        Raises:
            ValueError: When a namespace matches no node.
        """
        chosen: list[Node] = []
        unmatched: list[str] = []
        for namespace in node_namespaces:
            matching = [
                n
                for n in self._nodes
                if n.namespace
                and (
                    n.namespace == namespace or n.namespace.startswith(f"{namespace}.")
                )
            ]
            if not matching:
                unmatched.append(namespace)
            chosen.extend(matching)
        if unmatched:
            raise ValueError(
                f"Pipeline does not contain nodes with the following namespaces: "
                f"{unmatched}"
            )
        return self._subset(chosen)

    # ------------------------------------------------ Kedro's namespacing helpers
    # Kedro's Pipeline has these private methods, and code that re-namespaces
    # pipelines (plugins, project tooling) calls them; each is ``_remap``'s.

    def _map_nodes(
        self,
        nodes: Iterable[Node | Pipeline] | Pipeline,
        inputs: Names = None,
        outputs: Names = None,
        parameters: Names = None,
        tags: str | Iterable[str] | None = None,
        namespace: str | None = None,
        prefix_datasets_with_namespace: bool = True,
    ) -> list[Node]:
        """Copies of ``nodes`` remapped and namespaced as ``Pipeline(nodes, ...)``
        would make them (the nodes given are never changed).

        Raises:
            PipelineError: When a mapping does not fit the nodes.
        """
        copy = Pipeline([nodes] if isinstance(nodes, Pipeline) else nodes, tags=tags)
        return _remap.remap_nodes(
            copy, inputs, outputs, parameters, namespace, prefix_datasets_with_namespace
        )

    def _rename(
        self,
        name: str,
        mapping: dict[str, str],
        namespace: str | None,
        prefix_datasets_with_namespace: bool,
    ) -> str:
        """``name`` after mapping and namespacing."""
        renamer = _remap.Renamer(mapping, namespace, prefix_datasets_with_namespace)
        return renamer.rename(name)

    def _process_dataset_names(
        self,
        datasets: str | list[str] | dict[str, str] | None,
        mapping: dict[str, str],
        namespace: str | None,
        prefix_datasets_with_namespace: bool = True,
    ) -> str | list[str] | dict[str, str] | None:
        """:meth:`_rename` applied inside a name, a list or a dict of names."""
        renamer = _remap.Renamer(mapping, namespace, prefix_datasets_with_namespace)
        renamed: str | list[str] | dict[str, str] | None = renamer.rename_all(datasets)
        return renamed

    def _copy_node(
        self,
        node: Node,
        mapping: dict[str, str],
        namespace: str | None,
        prefix_datasets_with_namespace: bool = True,
    ) -> Node:
        """A copy of ``node`` with its datasets renamed and ``namespace`` prepended."""
        renamer = _remap.Renamer(mapping, namespace, prefix_datasets_with_namespace)
        return renamer.copy_node(node)

    def _check_datasets_known(self, names: set[str]) -> None:
        missing = sorted(names - self.datasets() - self._transcode_compatible_names())
        if missing:
            raise ValueError(f"Pipeline does not contain datasets named {missing}")

    def _consumers(self, names: Iterable[str]) -> set[Node]:
        """Nodes reading any of ``names``: a bare name matches all its transcodings."""
        names = set(names)
        self._check_datasets_known(names)
        found: set[Node] = set()
        for name in names:
            readers = self._nodes_by_input.get(_strip_transcoding(name), {})
            if _strip_transcoding(name) == name:
                found.update(readers)
            else:
                found.update(n for n in readers if name in n.inputs)
        return found

    def _producers(self, names: Iterable[str]) -> set[Node]:
        """Nodes writing any of ``names``; ``name@fmt`` must match exactly."""
        names = set(names)
        self._check_datasets_known(names)
        found: set[Node] = set()
        for name in names:
            writer = self._nodes_by_output.get(_strip_transcoding(name))
            if writer and (_strip_transcoding(name) == name or name in writer.outputs):
                found.add(writer)
        return found

    def only_nodes_with_inputs(self, *inputs: str) -> Pipeline:
        """Only the nodes that read any of ``inputs``."""
        return self._subset(self._consumers(inputs))

    def from_inputs(self, *inputs: str) -> Pipeline:
        """The nodes reading ``inputs`` and everything downstream of them."""
        result: set[Node] = set()
        frontier = self._consumers(inputs)
        while frontier:
            result |= frontier
            produced = {_strip_transcoding(o) for n in frontier for o in n.outputs}
            frontier = {
                child
                for name in produced
                for child in self._nodes_by_input.get(name, ())
            } - result
        return self._subset(result)

    def only_nodes_with_outputs(self, *outputs: str) -> Pipeline:
        """Only the nodes that produce any of ``outputs``."""
        return self._subset(self._producers(outputs))

    def to_outputs(self, *outputs: str) -> Pipeline:
        """The nodes producing ``outputs`` and everything upstream of them."""
        result: set[Node] = set()
        frontier = self._producers(outputs)
        while frontier:
            result |= frontier
            needed = {_strip_transcoding(i) for n in frontier for i in n.inputs}
            frontier = {
                self._nodes_by_output[name]
                for name in needed
                if name in self._nodes_by_output
            } - result
        return self._subset(result)

    def from_nodes(self, *node_names: str) -> Pipeline:
        """These nodes and everything downstream of them."""
        start = self.only_nodes(*node_names)
        return start + self.from_inputs(*map(_strip_transcoding, start.all_outputs()))

    def to_nodes(self, *node_names: str) -> Pipeline:
        """These nodes and everything upstream of them."""
        end = self.only_nodes(*node_names)
        return end + self.to_outputs(*map(_strip_transcoding, end.all_inputs()))

    def only_nodes_with_tags(self, *tags: str) -> Pipeline:
        """Only the nodes carrying any of ``tags`` (none given: an empty pipeline)."""
        wanted = set(tags)
        return Pipeline([n for n in self._nodes if wanted & n._tags])

    def filter(
        self,
        tags: Iterable[str] | None = None,
        from_nodes: Iterable[str] | None = None,
        to_nodes: Iterable[str] | None = None,
        node_names: Iterable[str] | None = None,
        from_inputs: Iterable[str] | None = None,
        to_outputs: Iterable[str] | None = None,
        node_namespaces: Iterable[str] | None = None,
    ) -> Pipeline:
        """Apply each given filter to this pipeline and keep nodes all of them keep.

        Filters are independent (not chained), so their order does not matter.

        Raises:
            ValueError: When no node is left.
        """
        selections = [
            (self.only_nodes_with_tags, tags),
            (self.from_nodes, from_nodes),
            (self.to_nodes, to_nodes),
            (self.only_nodes, node_names),
            (self.from_inputs, from_inputs),
            (self.to_outputs, to_outputs),
        ]
        subsets = [method(*args) for method, args in selections if args]
        if node_namespaces:
            subsets.append(self.only_nodes_with_namespaces(list(node_namespaces)))
        result = Pipeline(self._nodes)
        for subset in subsets:
            result &= subset
        if not result._nodes:
            raise ValueError(
                "Pipeline contains no nodes after applying all provided filters. "
                "Please ensure that at least one pipeline with nodes has been defined."
            )
        return result

    def tag(self, tags: str | Iterable[str]) -> Pipeline:
        """A copy of the pipeline with ``tags`` added to every node."""
        return Pipeline([n.tag(tags) for n in self._nodes])


def pipeline(
    pipe: Iterable[Node | Pipeline] | Pipeline,
    *,
    inputs: Names = None,
    outputs: Names = None,
    parameters: Names = None,
    tags: str | Iterable[str] | None = None,
    namespace: str | None = None,
    prefix_datasets_with_namespace: bool = True,
) -> Pipeline:
    """Build a :class:`Pipeline`; the arguments are the constructor's."""
    return Pipeline(
        pipe,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters,
        tags=tags,
        namespace=namespace,
        prefix_datasets_with_namespace=prefix_datasets_with_namespace,
    )


# ------------------------------------------------------------------- validation


def _flatten(item: Node | Pipeline) -> list[Node]:
    if isinstance(item, Node):
        return [item]
    if isinstance(item, Pipeline):
        return item.nodes
    raise AttributeError(
        f"'{type(item).__name__}' object has no attribute 'nodes': a Pipeline is "
        f"made of Node and Pipeline objects, not {item!r}."
    )


def _validate_duplicate_nodes(items: list[Any]) -> None:
    """Node names must be unique across the nodes and the nested pipelines given."""
    seen: set[str] = set()
    duplicates: dict[Pipeline | None, set[str]] = defaultdict(set)

    def check(node: Node, owner: Pipeline | None) -> None:
        if node.name in seen:
            duplicates[owner].add(node.name)
        else:
            seen.add(node.name)

    for item in items:
        if isinstance(item, Node):
            check(item, None)
        elif isinstance(item, Pipeline):
            for node in item.nodes:
                check(node, item)
    if not duplicates:
        return
    report = ""
    for owner, names in duplicates.items():
        label = "Free nodes" if owner is None else repr(owner).replace("\n", "")
        listed = "\n".join(f"  - {name}" for name in sorted(names))
        report += f"{label}:\n{listed}\n"
    raise ValueError(
        f"Pipeline nodes must have unique names. The following node names "
        f"appear more than once:\n\n{report}\nYou can name your "
        f"nodes using the last argument of 'node()'."
    )


def _validate_unique(attribute: str, nodes: list[Node]) -> None:
    """No two nodes may output (or confirm) the same dataset, transcoding aside."""
    counts = Counter(
        _strip_transcoding(name) for n in nodes for name in getattr(n, attribute)
    )
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if not duplicates:
        return
    if attribute == "outputs":
        raise OutputNotUniqueError(
            f"Output(s) {duplicates} are returned by more than one nodes. Node "
            f"outputs must be unique."
        )
    raise ConfirmNotUniqueError(
        f"{duplicates} datasets are confirmed by more than one node. Node "
        f"confirms must be unique."
    )


def _validate_transcoded_inputs_outputs(nodes: list[Node]) -> None:
    """A dataset used as ``name@fmt`` must not also be used as bare ``name``."""
    names = {name for n in nodes for name in chain(n.inputs, n.outputs)}
    invalid = sorted(
        {
            base
            for name in names
            if (base := _strip_transcoding(name)) != name and base in names
        }
    )
    if invalid:
        raise ValueError(
            f"The following datasets are used with transcoding, but "
            f"were referenced without the separator: {', '.join(invalid)}.\n"
            f"Please specify a transcoding option or rename the datasets."
        )


def _match_namespaces(node_namespace: str, filter_namespace: str) -> bool:
    """Whether ``filter_namespace`` is a segment-wise prefix of ``node_namespace``."""
    wanted = filter_namespace.split(".")
    return node_namespace.split(".")[: len(wanted)] == wanted


# ------------------------------------------------------------------ namespacing


# Kedro's module-level namespacing helpers, under Kedro's names.
_is_all_parameters = _remap.is_all_parameters
_is_single_parameter = _remap.is_single_parameter
_is_parameter = _remap.is_parameter
_get_dataset_names_mapping = _remap.dataset_mapping
_get_param_names_mapping = _remap.parameter_mapping
_validate_datasets_exist = _remap.validate_datasets_exist
_validate_inputs_outputs = _remap.validate_inputs_outputs
