"""``OmegaConfigLoader``: a project's YAML configuration, read as Kedro reads it.

``conf/base`` holds the configuration every environment shares; ``conf/<env>``
(``local`` unless told otherwise) overrides it key by key. Within one folder,
the files matching a key's patterns (``catalog*.yml``, ``parameters*.yml``,
``credentials*.yml``, in subfolders too) are merged, and two files defining the
same top-level key is an error. ``${...}`` interpolation is OmegaConf's, with
Kedro's two resolvers: ``${globals:key,default}`` (from ``globals.yml``) and
``${runtime_params:key,default}`` (from ``--params``). ``${oc.env:VAR}`` is
allowed in credentials only. Top-level keys starting with ``_`` are templates
for interpolation: dropped from the result, except in parameters (as Kedro
keeps them there). Runtime parameters are laid over the final parameters, key
by nested key (Kedro merges them into each folder's before the environment
replaces the base's top-level keys, so ``--params model.rate=1`` can drop the
rest of ``model`` when ``conf/local`` redefines it; dagloop never does).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf
from omegaconf.basecontainer import BaseContainer
from omegaconf.errors import OmegaConfBaseException
from omegaconf.resolvers import oc
from yaml.error import MarkedYAMLError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["BadConfigException", "MissingConfigException", "OmegaConfigLoader"]

#: Where each key's files are looked for, relative to an environment's folder.
DEFAULT_PATTERNS: dict[str, list[str]] = {
    "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
    "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    "credentials": ["credentials*", "credentials*/**", "**/credentials*"],
    "globals": ["globals.yml"],
}
_SUFFIXES = frozenset({".yml", ".yaml", ".json"})


class MissingConfigException(Exception):
    """A configuration folder that does not exist."""


class BadConfigException(Exception):
    """Configuration that cannot be read: YAML syntax, duplicate keys,
    an interpolation that does not resolve."""


_NO_DEFAULT = object()
#: OmegaConf's resolvers are process-wide; one folder resolves at a time, with
#: dagloop's in place, and the ones registered before are put back after.
_RESOLVING = threading.Lock()
_OURS = ("globals", "runtime_params", "oc.env")


def _resolver(kind: str, scope: Mapping[str, Mapping[str, Any]]) -> Any:
    def resolve(key: str, default: Any = _NO_DEFAULT) -> Any:
        value: Any = scope[kind]
        for part in key.split("."):
            if not isinstance(value, Mapping) or part not in value:
                if default is _NO_DEFAULT:
                    label = "Globals" if kind == "globals" else "Runtime parameter"
                    raise KeyError(
                        f"{label} key '{key}' not found and no default value provided."
                    )
                return default
            value = value[part]
        return value

    return resolve


@contextmanager
def _our_resolvers(
    scope: Mapping[str, Mapping[str, Any]], allow_env: bool
) -> Iterator[None]:
    """dagloop's ``globals`` and ``runtime_params`` (reading ``scope``) and,
    for credentials only, ``oc.env``, in OmegaConf's registry while the block
    resolves; whatever was there before (another loader's, Kedro's) after.

    OmegaConf has no public way to save and restore a resolver: this reads
    and writes its registry, ``BaseContainer._resolvers``, directly.
    """
    table: dict[str, Any] = BaseContainer._resolvers
    with _RESOLVING:
        saved = {name: table.get(name) for name in _OURS}
        try:
            for kind in ("globals", "runtime_params"):
                _register(kind, _resolver(kind, scope), replace=True)
            table.pop("oc.env", None)
            if allow_env:
                _register("oc.env", oc.env)
            yield
        finally:
            for name, resolver in saved.items():
                if resolver is None:
                    table.pop(name, None)
                else:
                    table[name] = resolver


def _register(name: str, resolver: Any, replace: bool = False) -> None:
    """OmegaConf 2.4's ``register_resolver``, or 2.3's older name for it."""
    register = getattr(OmegaConf, "register_resolver", None)
    if register is not None:
        register(name, resolver, replace=replace, annotation_validation="off")
    else:  # OmegaConf 2.3
        OmegaConf.register_new_resolver(name, resolver, replace=replace)


class OmegaConfigLoader(Mapping[str, dict[str, Any]]):
    """A project's configuration: ``loader["catalog"]``, ``["parameters"]``,
    ``["credentials"]``, ``["globals"]``, each ``conf/base`` overlaid by
    ``conf/<env>``. Each key is read once, when first asked for."""

    def __init__(
        self,
        conf_source: str | Path,
        env: str | None = None,
        runtime_params: Mapping[str, Any] | None = None,
        *,
        base_env: str = "base",
        default_run_env: str = "local",
        config_patterns: Mapping[str, list[str]] | None = None,
        merge_strategy: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare to read the configuration under ``conf_source``.

        Args:
            conf_source: The configuration folder (``conf``).
            env: The environment overlaying ``base_env`` (default:
                ``default_run_env``). A named one must exist.
            runtime_params: Values for ``${runtime_params:...}``; they also
                override parameters (nested keys as nested mappings).
            base_env: The folder every environment shares.
            default_run_env: The environment when ``env`` is not given; it
                may be absent.
            config_patterns: More keys, or other patterns for a key.
            merge_strategy: ``"destructive"`` (default: an environment's
                top-level key replaces the base's) or ``"soft"`` (merged
                deeply), per key.

        Raises:
            MissingConfigException: When ``conf_source``, its ``base_env``
                folder, or a named ``env`` folder does not exist.
        """
        self.conf_source = Path(conf_source)
        self.env = env
        self.runtime_params = dict(runtime_params or {})
        self.base_env = base_env
        self.default_run_env = default_run_env
        self.config_patterns = {**DEFAULT_PATTERNS, **(config_patterns or {})}
        self.merge_strategy = dict(merge_strategy or {})
        base = self.conf_source / base_env
        if not base.is_dir():
            raise MissingConfigException(
                f"Given configuration path either does not exist or is not a valid "
                f"directory: {base}"
            )
        run_env = self.conf_source / (env or default_run_env)
        if env is not None and not run_env.is_dir():
            raise MissingConfigException(
                f"Given configuration path either does not exist or is not a valid "
                f"directory: {run_env} (no environment '{env}' under {self.conf_source})"
            )
        self._folders = [base, run_env] if run_env != base else [base]
        self._loaded: dict[str, dict[str, Any]] = {}
        self._sources: dict[str, dict[str, Path]] = {}

    def source(self, key: str, name: str) -> Path | None:
        """The file that defines top-level ``name`` of ``key``'s configuration
        (the environment's, where it overrides the base), once ``key`` is read."""
        return self._sources.get(key, {}).get(name)

    def __repr__(self) -> str:
        return (
            f"OmegaConfigLoader(conf_source={self.conf_source}, env={self.env}, "
            f"runtime_params={self.runtime_params})"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.config_patterns)

    def __len__(self) -> int:
        return len(self.config_patterns)

    def __getitem__(self, key: str) -> dict[str, Any]:
        """The merged configuration for ``key`` (``{}`` when no file has any).

        Raises:
            KeyError: For a key without patterns.
            BadConfigException: Naming the file (and line) for YAML syntax,
                duplicate keys, ``oc.env`` outside credentials, or an
                interpolation that does not resolve.
        """
        if key not in self.config_patterns:
            raise KeyError(key)
        if key not in self._loaded:
            self._loaded[key] = self._load(key)
        return self._loaded[key]

    def _load(self, key: str) -> dict[str, Any]:
        scope = {
            "globals": {} if key == "globals" else self["globals"],
            "runtime_params": self.runtime_params,
        }
        merged: dict[str, Any] = {}
        for folder in self._folders:
            found = self._load_folder(key, folder, scope)
            if self.merge_strategy.get(key) == "soft":
                merged = _to_dict(OmegaConf.merge(merged, found))
            else:
                merged.update(found)
        if key == "parameters" and self.runtime_params:
            merged = _to_dict(OmegaConf.merge(merged, self.runtime_params))
        return merged

    def _load_folder(
        self, key: str, folder: Path, scope: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        files = {path: _read(path) for path in self._files(key, folder)}
        _check_duplicates(files, nested=key == "parameters")
        sources = self._sources.setdefault(key, {})
        for path, config in files.items():
            sources.update(dict.fromkeys(map(str, config), path))
        if not files:
            return {}
        try:
            with _our_resolvers(scope, allow_env=key == "credentials"):
                resolved = _to_dict(OmegaConf.merge(*files.values()))
        except OmegaConfBaseException as exc:
            names = ", ".join(str(path) for path in files)
            if "oc.env" in str(exc):
                raise BadConfigException(
                    f"{key} in {names}: the `oc.env` resolver is only supported "
                    f"for credentials; move the value to credentials.yml, or pass "
                    f"it with --params and ${{runtime_params:...}}."
                ) from exc
            raise BadConfigException(f"{key} in {names}: {exc}") from exc
        if key == "parameters":  # Kedro keeps them there: params:_defaults
            return resolved
        return {k: v for k, v in resolved.items() if not str(k).startswith("_")}

    def _files(self, key: str, folder: Path) -> list[Path]:
        """The files of ``folder`` matching ``key``'s patterns, in name order."""
        if not folder.is_dir():
            return []
        found: set[Path] = set()
        for pattern in self.config_patterns[key]:
            # pathlib's trailing ``**`` matches folders only; fsspec's (Kedro's)
            # matches the files below them too.
            found.update(
                folder.glob(f"{pattern}/*" if pattern.endswith("**") else pattern)
            )
        return sorted(
            path
            for path in found
            if path.suffix in _SUFFIXES
            and path.is_file()
            and not _hidden(path.relative_to(folder).parts)
        )


def _hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") for part in parts)


def _read(path: Path) -> Any:
    """One file's configuration, or an error naming its line and column.

    Raises:
        BadConfigException: For YAML (or JSON) that does not parse.
    """
    try:
        text = path.read_text("utf-8")
        config = OmegaConf.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise BadConfigException(
            f"Invalid YAML or JSON file {path}{where}: {exc.problem}"
        ) from exc
    if not OmegaConf.is_dict(config):
        raise BadConfigException(
            f"{path} should hold a mapping of names to entries, not a "
            f"{type(OmegaConf.to_object(config)).__name__}"
        )
    return config


def _check_duplicates(files: Mapping[Path, Any], *, nested: bool) -> None:
    """Two files of one folder must not define the same key: the same
    top-level key, or for parameters (``nested``), the same nested key (two
    files may add different keys to one mapping, as in Kedro).

    Raises:
        BadConfigException: Naming both files and the keys.
    """
    seen: dict[str, Path] = {}
    for path, config in files.items():
        keys = _leaf_keys(OmegaConf.to_container(config)) if nested else config
        clashes: dict[Path, list[str]] = {}
        for name in map(str, keys):
            if name.startswith("_"):
                continue
            if name in seen:
                clashes.setdefault(seen[name], []).append(name)
            seen.setdefault(name, path)
        for first, names in clashes.items():
            raise BadConfigException(
                f"Duplicate keys found in {first} and {path}: {', '.join(sorted(names))}"
            )


def _leaf_keys(config: Any, parent: str = "") -> list[str]:
    """Every key path to a value that is not a mapping: ``model.rate``."""
    keys = []
    for key, value in config.items():
        path = f"{parent}.{key}" if parent else str(key)
        keys.extend(_leaf_keys(value, path) if isinstance(value, dict) else [path])
    return keys


def _to_dict(config: Any) -> dict[str, Any]:
    container = OmegaConf.to_container(config, resolve=True)
    assert isinstance(container, dict)  # every file holds a mapping (_read)
    return {str(k): v for k, v in container.items()}
