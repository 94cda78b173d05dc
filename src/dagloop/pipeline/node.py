"""Nodes: a function plus the names of the datasets it reads and writes.

A node is pure description. It never touches a catalog; runners load its inputs,
call :meth:`Node.run` (or the function directly) and save what it returns.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from dagloop._bridge import run_sync
from dagloop.pipeline._callables import (
    is_async_callable,
    is_async_gen_callable,
    unwrap_partial,
)
from dagloop.pipeline._controls import Executor, make_controls
from dagloop.pipeline._outputs import split_outputs
from dagloop.pipeline.transcoding import _strip_transcoding

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["GroupedNodes", "Node", "is_async_callable", "node"]

_logger = logging.getLogger(__name__)

#: What a node name or tag may contain: letters, digits, ``_``, ``.`` and ``-``.
_VALID_NAME = re.compile(r"[\w\.-]+$")

#: The shapes ``inputs``/``outputs`` may take.
NodeIO = str | list[str] | dict[str, str] | None


@dataclass
class GroupedNodes:
    """A group of nodes deployed or run together, such as one namespace."""

    name: str
    type: str  # "namespace" or "nodes"
    nodes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)


class Node:
    """A function wired to named inputs and outputs.

    Node names are unique within a pipeline; nodes compare equal when their name and
    their inputs/outputs (in the spelling given) match, whatever the function.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        inputs: NodeIO,
        outputs: NodeIO,
        *,
        name: str | None = None,
        tags: str | Iterable[str] | None = None,
        confirms: str | list[str] | None = None,
        namespace: str | None = None,
        executor: Executor | None = None,
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = 0.0,
        retry_backoff: float = 1.0,
        buffer: int | None = None,
        stream: bool = False,
    ) -> None:
        """Create a node, validating its definition.

        Args:
            func: The callable the node runs.
            inputs: Dataset names passed to ``func``: one name, a list (positional
                arguments) or a dict mapping parameter names to dataset names.
            outputs: Dataset names for the result: one name, a list (the function
                returns a list/tuple of that length) or a dict mapping keys of the
                returned dict to dataset names.
            name: Optional name; by default one is derived from the function and the
                dataset names.
            tags: Tags for selecting nodes.
            confirms: Datasets whose ``confirm()`` is called after the node succeeds.
            namespace: Dotted namespace; prefixes the node name.
            executor: Where a sync function runs: ``"inline"`` (on the event loop
                thread), ``"thread"`` or ``"process"``; ``None`` follows the
                runner. ``async def`` functions always run on the event loop.
            timeout: Seconds one attempt may take before the run fails with
                ``NodeTimeoutError`` (async nodes are cancelled, process nodes
                killed; a thread cannot be interrupted, so the run stops waiting).
            retries: How many times to call the function again when it raises.
            retry_delay: Seconds to wait before the first retry.
            retry_backoff: Factor applied to the delay before each further retry.
            buffer: For a streaming node (an ``async def`` generator): items
                each consumer may be behind before the node waits (default 16).
            stream: For a generator function: stream its items to the nodes
                reading its output while it runs (by default, as in Kedro, its
                items are saved one by one and readers run after it).

        Raises:
            ValueError: When the definition is malformed (see each message).
            TypeError: When ``inputs`` do not bind to ``func``'s signature.
        """
        if not callable(func):
            raise ValueError(
                _node_error_message(
                    f"first argument must be a function, not '{type(func).__name__}'."
                )
            )
        _check_io_names("inputs", inputs, namespace)
        _check_io_names("outputs", outputs, namespace)
        if not inputs and not outputs:
            raise ValueError(
                _node_error_message("it must have some 'inputs' or 'outputs'.")
            )
        _check_binding(func, inputs)

        self._func = func
        self._inputs = inputs
        self._outputs = outputs
        if name and not _VALID_NAME.match(name):
            raise ValueError(
                f"'{name}' is not a valid node name. It must contain only "
                f"letters, digits, hyphens, underscores and/or fullstops."
            )
        self._name = name
        self._namespace = namespace
        self._tags = set(_to_list(tags))
        for tag in self._tags:
            if not _VALID_NAME.match(tag):
                raise ValueError(
                    f"'{tag}' is not a valid node tag. It must contain only "
                    f"letters, digits, hyphens, underscores and/or fullstops."
                )
        self._confirms = confirms
        self._controls = make_controls(
            name or _get_readable_func_name(func),
            func,
            executor=executor,
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            buffer=buffer,
            stream=stream,
        )
        self._clear_caches()
        self._validate_unique_outputs()
        self._validate_inputs_differ_from_outputs()
        if self._is_stream and any("@" in name for name in self.outputs):
            raise ValueError(
                f"Node '{self.name}' streams: its output cannot be transcoded "
                f"({self.outputs[0]}); name the stream without '@'."
            )
        if self._is_stream and len(self.outputs) != 1:
            raise ValueError(
                f"Node '{self.name}' streams (an async generator function), so it "
                f"must have exactly one output, not {len(self.outputs)}: yield "
                f"tuples to one output instead."
            )

    def _clear_caches(self) -> None:
        # Derived values are cached: runners read them per node on the hot path.
        self._cached_name: str | None = None
        self._cached_key: tuple[Any, Any, Any] | None = None
        self._cached_hash: int | None = None
        self._cached_is_async: bool | None = None
        self._cached_is_generator: bool | None = None
        self._cached_names: tuple[tuple[str, ...], ...] | None = None
        self._cached_is_stream: bool | None = None

    def _copy(self, **overwrite_params: Any) -> Node:
        """Return a new node built from this one's arguments, some replaced."""
        params: dict[str, Any] = {
            "func": self._func,
            "inputs": self._inputs,
            "outputs": self._outputs,
            "name": self._name,
            "namespace": self._namespace,
            "tags": self._tags,
            "confirms": self._confirms,
            **vars(self._controls),
        }
        params.update(overwrite_params)
        return type(self)(**params)

    # ------------------------------------------------------------------ identity

    @property
    def _unique_key(self) -> tuple[Any, Any, Any]:
        if self._cached_key is None:
            self._cached_key = (
                self.name,
                _hashable(self._inputs),
                _hashable(self._outputs),
            )
        return self._cached_key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self._unique_key == other._unique_key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        result: bool = self._unique_key < other._unique_key
        return result

    def __hash__(self) -> int:
        if self._cached_hash is None:
            self._cached_hash = hash(self._unique_key)
        return self._cached_hash

    def __str__(self) -> str:
        out_str = f"[{';'.join(self.outputs)}]" if self._outputs else "None"
        in_str = f"[{';'.join(self.inputs)}]" if self._inputs else "None"
        prefix = f"{self._name}: " if self._name else ""
        return f"{prefix}{self._func_name}({in_str}) -> {out_str}"

    def __repr__(self) -> str:
        return (
            f"Node({self._func_name}, {self._inputs!r}, {self._outputs!r}, "
            f"{self._name!r})"
        )

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        """Run the node with keyword inputs; same as ``run(inputs=kwargs)``."""
        return self.run(inputs=kwargs)

    @property
    def _func_name(self) -> str:
        name = _get_readable_func_name(self._func)
        if name == "<partial>":
            warnings.warn(
                f"The node producing outputs '{self.outputs}' is made from a "
                f"'partial' function. Partial functions do not have a '__name__' "
                f"attribute: consider using 'functools.update_wrapper' for better "
                f"log messages.",
                stacklevel=2,
            )
        return name

    # ---------------------------------------------------------------- properties

    @property
    def func(self) -> Callable[..., Any]:
        """The function the node runs."""
        return self._func

    @func.setter
    def func(self, func: Callable[..., Any]) -> None:
        """Replace the function, e.g. to decorate it from a hook."""
        self._func = func
        self._clear_caches()

    @property
    def tags(self) -> set[str]:
        """A copy of the node's tags."""
        return set(self._tags)

    def tag(self, tags: str | Iterable[str]) -> Node:
        """Return a copy of this node with ``tags`` added to its tags."""
        return self._copy(tags=self._tags | set(_to_list(tags)))

    @property
    def name(self) -> str:
        """The full name: ``<namespace>.<name>`` when the node has a namespace."""
        if self._cached_name is None:
            base = self._name or self._auto_name()
            self._cached_name = f"{self._namespace}.{base}" if self._namespace else base
        return self._cached_name

    def _auto_name(self) -> str:
        """Derive a stable name: function name plus a hash of the wiring.

        The hash covers the function's qualified location and the list forms of the
        inputs and outputs, so it is the same on every machine and run.
        """
        func = self._func
        if isinstance(func, partial):
            base = f"partial({func.func.__name__})"
            key = f"{base}|{self.inputs}|{self.outputs}"
        else:
            base = self._func_name
            key = f"{func.__module__}.{func.__name__}|{self.inputs}|{self.outputs}"
        return f"{base}__{hashlib.sha256(key.encode()).hexdigest()[:8]}"

    @property
    def short_name(self) -> str:
        """A readable, not necessarily unique name without the namespace."""
        if self._name:
            return self._name
        return self._func_name.replace("_", " ").title()

    @property
    def namespace(self) -> str | None:
        """The node's dotted namespace, outermost first, or ``None``."""
        return self._namespace

    @property
    def namespace_prefixes(self) -> list[str]:
        """Every prefix of the namespace: ``"a.b"`` gives ``["a", "a.b"]``.

        A node without a namespace gives ``[""]``.
        """
        parts = (self._namespace or "").split(".")
        return [".".join(parts[: i + 1]) for i in range(len(parts))]

    @property
    def inputs(self) -> list[str]:
        """Input dataset names in the order they bind to the function."""
        return list(self._io_names[0])

    @property
    def _io_names(self) -> tuple[tuple[str, ...], ...]:
        """``(inputs, outputs, confirms)`` as tuples, built once: for the runners'
        per-node path, where the public properties' fresh lists would cost."""
        if self._cached_names is None:
            if isinstance(self._inputs, dict):
                inputs = _dict_inputs_to_list(self._func, self._inputs)
            else:
                inputs = _to_list(self._inputs)
            self._cached_names = (
                tuple(inputs),
                tuple(self.outputs),
                tuple(self.confirms),
            )
        return self._cached_names

    @property
    def outputs(self) -> list[str]:
        """Output dataset names, in declaration order."""
        return _to_list(self._outputs)

    @property
    def confirms(self) -> list[str]:
        """Names of the datasets to confirm after the node succeeds."""
        return _to_list(self._confirms)

    @property
    def executor(self) -> Executor | None:
        """Where the function runs if it is sync; ``None`` means the runner decides."""
        return self._controls.executor

    @property
    def timeout(self) -> float | None:
        """Seconds one attempt may take, or ``None`` for no limit."""
        return self._controls.timeout

    @property
    def retries(self) -> int:
        """How many times the function is called again after it raises."""
        return self._controls.retries

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function, or an async generator
        function (a stream's producer): it runs on the event loop."""
        if self._cached_is_async is None:
            self._cached_is_async = is_async_callable(
                self._func
            ) or is_async_gen_callable(self._func)
        return self._cached_is_async

    @property
    def _is_stream(self) -> bool:
        """Whether the node streams: an async generator function, or a
        generator with ``stream=True``. Its one output is a stream, read by its
        consumers while it runs."""
        if self._cached_is_stream is None:
            self._cached_is_stream = is_async_gen_callable(self._func) or (
                self._controls.stream and self._is_generator
            )
        return self._cached_is_stream

    @property
    def _is_generator(self) -> bool:
        """Whether the function is a generator function (its outputs are streamed)."""
        if self._cached_is_generator is None:
            func = unwrap_partial(self._func)
            self._cached_is_generator = inspect.isgeneratorfunction(func)
        return self._cached_is_generator

    # ----------------------------------------------------------------------- run

    def run(self, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the function with ``inputs`` and map its result onto the outputs.

        Args:
            inputs: Input values keyed by dataset name, as declared.

        Returns:
            Output values keyed by dataset name. For generator functions with
            several outputs, each value is a lazy iterator over its share of the
            yielded items.

        Raises:
            ValueError: When ``inputs`` or the returned value do not match the
                node's definition.
            Exception: Whatever the function raises, unchanged.
        """
        inputs = self._start(inputs)
        try:
            args, kwargs = self._call_arguments(inputs)
            result = self._func(*args, **kwargs)
            if inspect.iscoroutine(result):
                result = run_sync(_awaited, result)
            return self._outputs_to_dictionary(result)
        except Exception as exc:
            self._log_failure(exc)
            raise

    # The steps of ``run``, shared with the runners, which call the function
    # through an executor (thread, process, or awaited on the event loop).

    def _start(self, inputs: dict[str, Any] | None) -> dict[str, Any]:
        """Log the start; check ``inputs`` is a dict (or None, meaning no inputs).

        Raises:
            ValueError: When ``inputs`` is neither (not logged as a node failure,
                as in Kedro: the node never started).
        """
        if _logger.isEnabledFor(logging.INFO):  # per node: one call, not two
            _logger.info("Running node: %s", self)
        if not (inputs is None or isinstance(inputs, dict)):
            raise ValueError(
                f"Node.run() expects a dictionary or None, "
                f"but got {type(inputs)} instead"
            )
        return {} if inputs is None else inputs

    def _log_failure(self, exc: BaseException) -> None:
        _logger.error("Node %s failed with error: \n%s", self, exc)

    def _call_arguments(
        self, inputs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Check ``inputs`` against the declaration and build the call arguments."""
        declared = self._inputs
        if not declared:
            if inputs:
                raise self._inputs_mismatch("no inputs", inputs)
            return [], {}
        if isinstance(declared, str):
            if len(inputs) != 1 or declared not in inputs:
                raise self._inputs_mismatch(f"one input named '{declared}'", inputs)
            return [inputs[declared]], {}
        if isinstance(declared, list):
            if set(declared) != set(inputs):
                expected = f"{len(declared)} input(s) {declared}"
                raise self._inputs_mismatch(expected, inputs)
            return [inputs[name] for name in declared], {}
        wanted = set(declared.values())
        if wanted != set(inputs):
            raise self._inputs_mismatch(
                f"{len(wanted)} input(s) {sorted(wanted)}", inputs
            )
        return [], {param: inputs[name] for param, name in declared.items()}

    def _inputs_mismatch(self, expected: str, inputs: dict[str, Any]) -> ValueError:
        return ValueError(
            f"Node {self!s} expected {expected}, but got the following "
            f"{len(inputs)} input(s) instead: {sorted(inputs.keys())}."
        )

    def _outputs_to_dictionary(self, result: Any) -> dict[str, Any]:
        """Map a function's return value onto the declared output names."""
        return split_outputs(self, self._outputs, result)

    # ---------------------------------------------------------------- validation

    def _validate_unique_outputs(self) -> None:
        counts = Counter(self.outputs)
        duplicates = {name for name, count in counts.items() if count > 1}
        if duplicates:
            raise ValueError(
                f"Failed to create node {self} due to duplicate "
                f"output(s) {duplicates}.\nNode outputs must be unique."
            )

    def _validate_inputs_differ_from_outputs(self) -> None:
        common = {_strip_transcoding(i) for i in self.inputs} & {
            _strip_transcoding(o) for o in self.outputs
        }
        if common:
            raise ValueError(
                f"Failed to create node {self}.\nA node cannot have the same inputs "
                f"and outputs even if they are transcoded: {common}"
            )


def node(
    func: Callable[..., Any],
    inputs: NodeIO,
    outputs: NodeIO,
    *,
    name: str | None = None,
    tags: str | Iterable[str] | None = None,
    confirms: str | list[str] | None = None,
    namespace: str | None = None,
    executor: Executor | None = None,
    timeout: float | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    retry_backoff: float = 1.0,
    buffer: int | None = None,
    stream: bool = False,
) -> Node:
    """Create a :class:`Node`; see its constructor for the arguments.

    Example:
        >>> def add(a, b):
        ...     return a + b
        >>> node(add, ["x", "y"], "total", name="add").name
        'add'
    """
    return Node(
        func,
        inputs,
        outputs,
        name=name,
        tags=tags,
        confirms=confirms,
        namespace=namespace,
        executor=executor,
        timeout=timeout,
        retries=retries,
        retry_delay=retry_delay,
        retry_backoff=retry_backoff,
        buffer=buffer,
        stream=stream,
    )


# ---------------------------------------------------------------------- helpers


async def _awaited(coroutine: Any) -> Any:
    return await coroutine


def _node_error_message(msg: str) -> str:
    return (
        f"Invalid Node definition: {msg}\n"
        f"Format should be: node(function, inputs, outputs)"
    )


def _check_io_names(kind: str, value: Any, namespace: str | None) -> None:
    """Check the type of ``inputs``/``outputs`` and of each name they hold."""
    if value and not isinstance(value, str | list | dict):
        raise ValueError(
            _node_error_message(
                f"'{kind}' type must be one of [String, List, Dict, None], "
                f"not '{type(value).__name__}'."
            )
        )
    role = "inputs to" if kind == "inputs" else "outputs of"
    for name in _to_list(value):
        if not isinstance(name, str):
            raise ValueError(
                _node_error_message(
                    f"names of variables used as {role} the function "
                    f"must be of 'String' type, but {name} from {value} "
                    f"is '{type(name)}'."
                )
            )
        _warn_on_dotted_name(name, namespace)


def _warn_on_dotted_name(name: str, namespace: str | None) -> None:
    """Warn when a dataset name uses dots outside its node's namespace.

    Dots are how namespaces prefix dataset names, so a dotted name that does not
    start with the node's top-level namespace is probably a mistake.
    """
    if "." not in name or name.startswith("params:"):
        return
    name_namespace = name.rpartition(".")[0]
    if namespace and name_namespace.startswith(namespace.split(".")[0]):
        return
    warnings.warn(
        f"Dataset name '{name}' contains '.' characters, which is "
        f"not recommended as the dot notation is reserved for automatic "
        f"namespacing in Kedro. Consider using a different naming convention.",
        UserWarning,
        stacklevel=4,
    )


def _check_binding(func: Callable[..., Any], inputs: NodeIO) -> None:
    """Check that ``inputs`` can be passed to ``func``; C builtins are not checked."""
    if inspect.isbuiltin(func):
        return
    if isinstance(inputs, str):
        args, kwargs = [inputs], {}
    elif isinstance(inputs, dict):
        args, kwargs = [], dict(inputs)
    else:
        args, kwargs = list(inputs or []), {}
    signature = _signature(func)
    try:
        signature.bind(*args, **kwargs)
    except Exception as exc:
        raise TypeError(
            f"Inputs of '{_get_readable_func_name(func)}' function expected "
            f"{list(signature.parameters.keys())}, but got {inputs}"
        ) from exc


@lru_cache(maxsize=4096)
def _cached_signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func, follow_wrapped=False)


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    """``func``'s signature, cached: pipelines often reuse one function many times."""
    try:
        return _cached_signature(func)
    except TypeError:  # an unhashable callable
        return inspect.signature(func, follow_wrapped=False)


def _dict_inputs_to_list(func: Callable[..., Any], inputs: dict[str, str]) -> list[str]:
    """Order dict inputs as they bind to ``func``: named parameters, then ``**kwargs``."""
    bound = _signature(func).bind(**inputs)
    return [*bound.args, *bound.kwargs.values()]


def _to_list(element: str | Iterable[str] | dict[str, str] | None) -> list[str]:
    """Normalise a name, list of names or name mapping to a list of names."""
    if element is None:
        return []
    if isinstance(element, str):
        return [element]
    if isinstance(element, dict):
        return list(element.values())
    return list(element)


def _get_readable_func_name(func: Callable[..., Any]) -> str:
    """A user-facing name for ``func``: its ``__name__``, else a short repr."""
    if hasattr(func, "__name__"):
        return str(func.__name__)
    name = repr(func)
    return "<partial>" if "functools.partial" in name else name


def _hashable(value: Any) -> Any:
    """Make inputs/outputs hashable; dict order does not matter, list order does."""
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value
