"""Namespacing and renaming: reuse one pipeline under new dataset names.

``pipeline(pipe, inputs=..., outputs=..., parameters=..., namespace=...)`` copies
every node of ``pipe`` with its dataset names rewritten. Explicit mappings win;
everything else is prefixed with the namespace, except parameters' own rules.
"""

from __future__ import annotations

import copy
import difflib
from itertools import chain
from typing import TYPE_CHECKING, Any

from dagloop.pipeline._errors import PipelineError
from dagloop.pipeline.transcoding import (
    TRANSCODING_SEPARATOR,
    _strip_transcoding,
    _transcode_split,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dagloop.pipeline.node import Node
    from dagloop.pipeline.pipeline import Pipeline

Names = str | set[str] | list[str] | dict[str, str] | None


def is_all_parameters(name: str) -> bool:
    """Whether ``name`` is the dataset holding every parameter."""
    return name == "parameters"


def is_single_parameter(name: str) -> bool:
    """Whether ``name`` is a ``params:`` reference."""
    return name.startswith("params:")


def is_parameter(name: str) -> bool:
    """Whether ``name`` refers to parameters at all."""
    return is_single_parameter(name) or is_all_parameters(name)


def dataset_mapping(names: Names) -> dict[str, str]:
    """Normalise a name, collection of names or ``{old: new}`` dict to a dict."""
    if names is None:
        return {}
    if isinstance(names, str):
        return {names: names}
    if isinstance(names, dict):
        return copy.deepcopy(names)
    return {name: name for name in names}


def _params_name(name: str) -> str:
    return name if is_single_parameter(name) else f"params:{name}"


def parameter_mapping(names: Names) -> dict[str, str]:
    """Like :func:`dataset_mapping`, adding the ``params:`` prefix where missing."""
    mapping: dict[str, str] = {}
    for name, new_name in dataset_mapping(names).items():
        if is_all_parameters(name):
            mapping[name] = name  # "parameters" never becomes "params:parameters"
        else:
            mapping[_params_name(name)] = _params_name(new_name)
    return mapping


class Renamer:
    """Rewrites dataset names for one namespacing/remapping call."""

    def __init__(
        self, mapping: dict[str, str], namespace: str | None, prefix: bool
    ) -> None:
        self._mapping = mapping
        self._namespace = namespace
        self._prefix = prefix and bool(namespace)

    def rename(self, name: str) -> str:
        """Apply the first rule that matches ``name``."""
        if name in self._mapping:
            return self._mapping[name]
        if is_all_parameters(name):
            return name
        base, suffix = _transcode_split(name)
        if base in self._mapping:
            return TRANSCODING_SEPARATOR.join((self._mapping[base], suffix))
        if not self._prefix:
            return name
        if is_single_parameter(name):
            return f"params:{self._namespace}.{name.removeprefix('params:')}"
        return f"{self._namespace}.{name}"

    def rename_all(self, names: Any) -> Any:
        """Rename inside a str / list / dict of names, keeping its shape."""
        if names is None:
            return None
        if isinstance(names, str):
            return self.rename(names)
        if isinstance(names, list):
            return [self.rename(n) for n in names]
        if isinstance(names, dict):
            return {key: self.rename(value) for key, value in names.items()}
        raise ValueError(f"Unexpected input {names} of type {type(names)}")

    def copy_node(self, node: Node) -> Node:
        """Copy ``node`` with renamed datasets and the namespace prepended."""
        namespace = node.namespace
        if self._namespace:
            namespace = (
                f"{self._namespace}.{namespace}" if namespace else self._namespace
            )
        return node._copy(
            inputs=self.rename_all(node._inputs),
            outputs=self.rename_all(node._outputs),
            confirms=self.rename_all(node._confirms),
            namespace=namespace,
        )


def validate_datasets_exist(
    inputs: Iterable[str],
    outputs: Iterable[str],
    parameters: Iterable[str],
    pipe: Pipeline,
) -> None:
    """Every mapped name must be a dataset of ``pipe``; suggest close matches if not."""
    wanted = {_strip_transcoding(n) for n in chain(inputs, outputs)} | set(parameters)
    existing = pipe._transcode_compatible_names()
    missing = sorted(wanted - existing)
    if not missing:
        return
    matches = [m for name in missing for m in difflib.get_close_matches(name, existing)]
    message = (
        "Failed to map datasets and/or parameters onto the nodes provided: "
        + ", ".join(missing)
    )
    if matches:
        message += f" - did you mean one of these instead: {', '.join(matches)}"
    raise PipelineError(message)


def validate_inputs_outputs(
    inputs: Iterable[str], outputs: Iterable[str], pipe: Pipeline
) -> None:
    """Mapped inputs must be free inputs; mapped outputs must be produced inside."""
    stripped_inputs = {_strip_transcoding(n) for n in inputs}
    stripped_outputs = {_strip_transcoding(n) for n in outputs}
    if any(is_parameter(name) for name in stripped_inputs):
        raise PipelineError(
            "Parameters should be specified in the 'parameters' argument"
        )
    free_inputs = {_strip_transcoding(name) for name in pipe.inputs()}
    if not stripped_inputs <= free_inputs:
        raise PipelineError(
            "Inputs must not be outputs from another node in the same pipeline"
        )
    if stripped_outputs & free_inputs:
        raise PipelineError(
            "All outputs must be generated by some node within the pipeline"
        )


def remap_nodes(
    pipe: Pipeline,
    inputs: Names,
    outputs: Names,
    parameters: Names,
    namespace: str | None,
    prefix_datasets_with_namespace: bool,
) -> list[Node]:
    """Copies of ``pipe``'s nodes with dataset names remapped and namespaced.

    Raises:
        PipelineError: When a mapping names datasets ``pipe`` does not have, maps
            parameters as inputs, or maps intermediate or free-input datasets in
            the wrong role.
    """
    input_map = dataset_mapping(inputs)
    output_map = dataset_mapping(outputs)
    param_map = parameter_mapping(parameters)
    validate_datasets_exist(input_map, output_map, param_map, pipe)
    validate_inputs_outputs(input_map, output_map, pipe)
    renamer = Renamer(
        {**input_map, **output_map, **param_map},
        namespace,
        prefix_datasets_with_namespace,
    )
    return [renamer.copy_node(n) for n in pipe.nodes]
