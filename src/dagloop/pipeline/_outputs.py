"""Mapping a node function's return value onto its declared outputs.

Generator functions get special treatment: their first item is peeked to check its
shape, and the rest of the stream is split lazily into one iterator per output, so a
runner can save chunk by chunk without holding the whole stream in memory.
"""

from __future__ import annotations

import inspect
from itertools import chain, tee
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dagloop.pipeline.node import Node


def split_outputs(node: Node, declared: Any, result: Any) -> dict[str, Any]:
    """Return ``{dataset name: value}`` for ``result`` under the ``declared`` outputs.

    Raises:
        ValueError: When ``result`` does not have the declared shape.
    """
    if declared is None:
        return {}
    if isinstance(declared, str):
        return {declared: result}
    if isinstance(declared, dict):
        return _from_dict(node, declared, result)
    return _from_list(node, declared, result)


def _peek(node: Node, result: Any) -> tuple[Any, Iterator[Any] | None]:
    """Return the first item and the full stream for a generator, else ``(result, None)``."""
    if not inspect.isgenerator(result):
        return result, None
    try:
        first = next(result)
    except StopIteration:
        raise _save_error(
            node, "The node function is a generator that yielded nothing."
        ) from None
    return first, chain((first,), result)


def _unzip(stream: Iterator[tuple[Any, ...]], width: int) -> list[Iterator[Any]]:
    """Split a stream of ``width``-tuples into ``width`` lazy iterators."""
    return [map(itemgetter(i), copy) for i, copy in enumerate(tee(stream, width))]


def _save_error(node: Node, detail: str) -> ValueError:
    return ValueError(f"Failed to save outputs of node {node}.\n{detail}")


def _from_dict(node: Node, declared: dict[str, str], result: Any) -> dict[str, Any]:
    first, stream = _peek(node, result)
    keys = list(declared)
    if not isinstance(first, dict):
        raise _save_error(
            node,
            f"The node output is a dictionary, whereas the function output is "
            f"{type(first)}.",
        )
    if set(keys) != set(first):
        # The two sets are printed in these roles on purpose: users match on it.
        raise _save_error(
            node,
            f"The node's output keys {set(first.keys())} do not match with the "
            f"returned output's keys {set(keys)}.",
        )
    if stream is None:
        values: list[Any] = [first[k] for k in keys]
        return dict(zip(declared.values(), values, strict=True))
    rows = (_dict_row(node, item, keys) for item in stream)
    return dict(zip(declared.values(), _unzip(rows, len(keys)), strict=True))


def _from_list(node: Node, declared: list[str], result: Any) -> dict[str, Any]:
    first, stream = _peek(node, result)
    if not isinstance(first, list | tuple):
        raise _save_error(
            node,
            f"The node definition contains a list of outputs {declared}, whereas "
            f"the node function returned a '{type(first).__name__}'.",
        )
    if len(first) != len(declared):
        raise _save_error(
            node,
            f"The node function returned {len(first)} output(s), whereas the node "
            f"definition contains {len(declared)} output(s).",
        )
    if stream is None:
        return dict(zip(declared, first, strict=True))
    rows = (_list_row(node, item, len(declared)) for item in stream)
    return dict(zip(declared, _unzip(rows, len(declared)), strict=True))


def _list_row(node: Node, item: Any, width: int) -> Any:
    """Check one later item of a generator against the declared list outputs."""
    if not isinstance(item, list | tuple) or len(item) != width:
        raise _save_error(
            node,
            f"The node generator yielded {item!r} after its first item; every item "
            f"must be a list or tuple of {width} value(s), one per output.",
        )
    return item


def _dict_row(node: Node, item: Any, keys: list[str]) -> tuple[Any, ...]:
    """Check one later item of a generator against the declared dict outputs."""
    if not isinstance(item, dict) or set(item) != set(keys):
        raise _save_error(
            node,
            f"The node generator yielded {item!r} after its first item; every item "
            f"must be a dict with the keys {sorted(keys)}.",
        )
    return tuple(item[k] for k in keys)
