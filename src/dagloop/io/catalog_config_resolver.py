"""Dataset factories: catalog entries whose names are patterns, such as ``{name}_csv``.

A pattern entry configures every dataset whose name it matches; placeholders
captured from the name are substituted into the entry's strings. Patterns are
tried from the most specific (most characters outside ``{...}``) to the least; a
pattern with no fixed characters is the user's catch-all, and the runtime patterns
(``{default}`` → ``MemoryDataset``) come last.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from typing import TYPE_CHECKING, Any

import parse

from dagloop.io.core import DatasetError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["CatalogConfigResolver"]

Patterns = dict[str, dict[str, Any]]

CREDENTIALS_KEY = "credentials"
DEFAULT_RUNTIME_PATTERN: Patterns = {"{default}": {"type": "dagloop.io.MemoryDataset"}}

_PLACEHOLDER = re.compile(r"\{.*?\}")
_logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1024)
def _parser(pattern: str) -> Any:
    """``pattern`` compiled once: matching runs for every dataset of every run."""
    return parse.compile(pattern)


class _WholeName:
    """The match of a pattern that is one placeholder, e.g. ``{default}``."""

    __slots__ = ("named",)

    def __init__(self, field: str, name: str) -> None:
        self.named = {field: name}


_SINGLE_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


def _match(pattern: str, name: str) -> Any:
    """Whole-name match of ``name`` against ``pattern`` (case-insensitive, as Kedro).

    A pattern that is a single placeholder matches any non-empty name; it is the
    runtime pattern every undeclared dataset goes through, so it skips the parser.
    """
    field = _single_placeholder(pattern)
    if field is not None:
        return _WholeName(field, name) if name else None
    return _parser(pattern).parse(name)


@functools.lru_cache(maxsize=1024)
def _single_placeholder(pattern: str) -> str | None:
    """The field name when ``pattern`` is one placeholder such as ``{default}``."""
    single = _SINGLE_PLACEHOLDER.fullmatch(pattern)
    return single.group(1) if single else None


def _fetch_credentials(credentials_name: str, credentials: dict[str, Any]) -> Any:
    try:
        return credentials[credentials_name]
    except KeyError as exc:
        raise KeyError(
            f"Unable to find credentials '{credentials_name}': check your data "
            "catalog and credentials configuration. See docs/datasets.md "
            "for an example."
        ) from exc


def _resolve_credentials(
    config: dict[str, Any], credentials: dict[str, Any]
) -> dict[str, Any]:
    """Replace every ``credentials: <name>`` (at any depth) with the named credentials."""

    def resolve(key: str, value: Any) -> Any:
        if key == CREDENTIALS_KEY and isinstance(value, str):
            return _fetch_credentials(value, credentials)
        if isinstance(value, dict):
            return {k: resolve(k, v) for k, v in value.items()}
        return value

    return {k: resolve(k, v) for k, v in copy.deepcopy(config).items()}


def _invalid_entry(name: str) -> DatasetError:
    return DatasetError(
        f"Catalog entry '{name}' is not a valid dataset configuration. "
        "\nHint: If this catalog entry is intended for variable interpolation, "
        "make sure that the key is preceded by an underscore."
    )


class CatalogConfigResolver:
    """Resolves dataset names to configurations: plain entries, then patterns."""

    def __init__(
        self,
        config: dict[str, dict[str, Any]] | None = None,
        credentials: dict[str, dict[str, Any]] | None = None,
        default_runtime_patterns: Patterns | None = None,
    ) -> None:
        """Split ``config`` into plain entries and patterns, resolving credentials.

        Args:
            config: The catalog configuration (name or pattern → entry).
            credentials: Named credentials that entries refer to.
            default_runtime_patterns: Patterns for datasets no entry matches.

        Raises:
            DatasetError: For a non-dict entry, a pattern whose entry uses
                placeholders missing from its name, or several catch-all patterns.
            KeyError: For a reference to unknown credentials.
        """
        if default_runtime_patterns is None:
            _logger.warning(
                "Since runtime patterns are not provided, setting the runtime "
                "pattern to default value: %s",
                DEFAULT_RUNTIME_PATTERN,
            )
        self._default_runtime_patterns = (
            default_runtime_patterns or DEFAULT_RUNTIME_PATTERN
        )
        self._dataset_patterns, self._user_catch_all_pattern = self._extract_patterns(
            config, credentials
        )
        self._resolved_configs = self._resolve_credentials(config, credentials)

    @property
    def config(self) -> dict[str, dict[str, Any]]:
        """Plain (non-pattern) entries, credentials resolved."""
        return self._resolved_configs

    @staticmethod
    def is_pattern(pattern: str) -> bool:
        """Whether a catalog key is a pattern."""
        return "{" in pattern

    @staticmethod
    def _pattern_specificity(pattern: str) -> int:
        return len(_PLACEHOLDER.sub("", pattern))

    @classmethod
    def _sort_patterns(cls, dataset_patterns: Patterns) -> Patterns:
        """Most specific first, then most placeholders, then alphabetical."""
        ordered = sorted(
            dataset_patterns,
            key=lambda p: (-cls._pattern_specificity(p), -p.count("{"), p),
        )
        catch_all = [p for p in ordered if cls._pattern_specificity(p) == 0]
        if len(catch_all) > 1:
            raise DatasetError(
                f"Multiple catch-all patterns found in the catalog: {', '.join(catch_all)}. "
                f"Only one catch-all pattern is allowed, remove the extras."
            )
        return {key: dataset_patterns[key] for key in ordered}

    @classmethod
    def _validate_pattern_config(cls, ds_name: str, ds_config: dict[str, Any]) -> None:
        """Every placeholder used in the entry must appear in the pattern name."""
        in_name = set(_PLACEHOLDER.findall(ds_name))
        in_config: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)
            elif isinstance(value, str) and "}" in value:
                in_config.update(_PLACEHOLDER.findall(value))

        walk(ds_config)
        if in_config - in_name:
            raise DatasetError(
                f"Incorrect dataset configuration provided. "
                f"Keys used in the configuration {in_config - in_name} "
                f"should present in the dataset pattern name {ds_name}."
            )

    @classmethod
    def _resolve_dataset_config(cls, ds_name: str, pattern: str, config: Any) -> Any:
        """Fill ``pattern``'s placeholders, captured from ``ds_name``, into ``config``."""
        captured = _match(pattern, ds_name)
        return _format_strings(config, captured.named if captured else {})

    def list_patterns(self) -> list[str]:
        """Dataset patterns by priority, then the catch-all, then runtime patterns."""
        patterns = [*self._dataset_patterns, *self._user_catch_all_pattern]
        patterns.extend(p for p in self._default_runtime_patterns if p not in patterns)
        return patterns

    @classmethod
    def _get_matches(cls, patterns: Iterable[str], ds_name: str) -> Iterator[str]:
        return (pattern for pattern in patterns if _match(pattern, ds_name))

    def match_dataset_pattern(self, ds_name: str) -> str | None:
        """The first dataset pattern matching ``ds_name``, if any."""
        if not self._dataset_patterns:
            return None
        return next(self._get_matches(self._dataset_patterns, ds_name), None)

    def match_user_catch_all_pattern(self, ds_name: str) -> str | None:
        """The user's catch-all pattern, if there is one and it matches."""
        if not self._user_catch_all_pattern:
            return None
        return next(self._get_matches(self._user_catch_all_pattern, ds_name), None)

    def match_runtime_pattern(self, ds_name: str) -> str:
        """The runtime pattern matching ``ds_name`` (one always matches)."""
        return next(self._get_matches(self._default_runtime_patterns, ds_name))

    def _get_pattern_config(self, pattern: str) -> dict[str, Any]:
        return (
            self._dataset_patterns.get(pattern)
            or self._user_catch_all_pattern.get(pattern)
            or self._default_runtime_patterns.get(pattern)
            or {}
        )

    @classmethod
    def _extract_patterns(
        cls,
        config: dict[str, dict[str, Any]] | None,
        credentials: dict[str, dict[str, Any]] | None,
    ) -> tuple[Patterns, Patterns]:
        """Return ``(dataset patterns by priority, user catch-all pattern)``."""
        patterns: Patterns = {}
        for ds_name, ds_config in (config or {}).items():
            if cls.is_pattern(ds_name):
                if not isinstance(ds_config, dict):
                    raise _invalid_entry(ds_name)
                cls._validate_pattern_config(ds_name, ds_config)
                patterns[ds_name] = _resolve_credentials(ds_config, credentials or {})
        ordered = cls._sort_patterns(patterns)
        catch_all: Patterns = {}
        if ordered and cls._pattern_specificity(next(reversed(ordered))) == 0:
            name, entry = ordered.popitem()
            catch_all = {name: entry}
        return ordered, catch_all

    @classmethod
    def _resolve_credentials(
        cls,
        config: dict[str, dict[str, Any]] | None,
        credentials: dict[str, dict[str, Any]] | None,
    ) -> dict[str, dict[str, Any]]:
        """The plain (non-pattern) entries of ``config`` with their credential
        references replaced by the credentials themselves (Kedro's name).

        Raises:
            DatasetError: For an entry that is not a mapping.
        """
        resolved: dict[str, dict[str, Any]] = {}
        for ds_name, ds_config in (config or {}).items():
            if not isinstance(ds_config, dict):
                raise _invalid_entry(ds_name)
            if not cls.is_pattern(ds_name):
                resolved[ds_name] = _resolve_credentials(ds_config, credentials or {})
        return resolved

    @staticmethod
    def _unresolve_credentials(
        cred_name: str, ds_config: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Pull the first ``credentials`` value out as ``<cred_name>_credentials``."""
        config = copy.deepcopy(ds_config) or {}
        credentials: dict[str, Any] = {}
        reference = f"{cred_name}_{CREDENTIALS_KEY}"

        def unresolve(entry: dict[str, Any]) -> bool:
            for key, value in entry.items():
                if key == CREDENTIALS_KEY and value:
                    credentials[reference] = value
                    entry[key] = reference
                    return True
                if isinstance(value, dict) and unresolve(value):
                    return True
            return False

        unresolve(config)
        return config, credentials

    def resolve_pattern(self, ds_name: str) -> dict[str, Any]:
        """The configuration for ``ds_name``: its entry, or the best matching pattern's."""
        if ds_name in self._resolved_configs:
            return self._resolved_configs[ds_name]
        pattern = (
            self.match_dataset_pattern(ds_name)
            or self.match_user_catch_all_pattern(ds_name)
            or self.match_runtime_pattern(ds_name)
        )
        resolved: dict[str, Any] = self._resolve_dataset_config(
            ds_name, pattern, copy.deepcopy(self._get_pattern_config(pattern))
        )
        if (
            self._pattern_specificity(pattern) == 0
            and pattern in self._user_catch_all_pattern
        ):
            _logger.warning(
                "Config from the dataset pattern '%s' in the catalog will be used to "
                "override the default dataset creation for '%s'",
                pattern,
                ds_name,
            )
        return resolved


def _format_strings(value: Any, captured: dict[str, Any]) -> Any:
    """Format every string containing ``}`` with ``captured``; tuples become lists."""
    if isinstance(value, dict):
        return {key: _format_strings(item, captured) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_format_strings(item, captured) for item in value]
    if isinstance(value, str) and "}" in value:
        return value.format_map(captured)
    return value
