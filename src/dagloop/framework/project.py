"""A project on disk: its configuration, its pipelines, a runner for them.

What ``dagloop run`` does, as a library: the command line only turns options
into these calls. A project is a folder with ``conf/`` (see
:class:`dagloop.config.OmegaConfigLoader`) and Python modules defining
pipelines; ``pyproject.toml``'s ``[tool.dagloop]`` may name a pipeline registry
(``pipelines = "package.pipeline_registry"``, whose ``register_pipelines()``
returns ``{name: pipeline}``, ``"__default__"`` among them).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import sysconfig
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagloop
import dagloop.runner
from dagloop._text import error_line
from dagloop.io import DataCatalog, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline
from dagloop.utils import load_obj

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dagloop.config import OmegaConfigLoader

__all__ = [
    "Project",
    "ProjectError",
    "dataset_class",
    "parameter_inputs",
    "where_it_runs",
]


class ProjectError(Exception):
    """A project that cannot be run as asked: its pipeline, registry or runner."""


@dataclass
class Project:
    """A project folder, read with one environment and runtime parameters."""

    #: The project's folder (default: the current one).
    root: Path = field(default_factory=Path.cwd)
    #: The configuration folder, relative to ``root`` unless absolute.
    conf_source: str | Path = "conf"
    #: The environment overlaying ``conf/base`` (default: ``local``).
    env: str | None = None
    #: ``--params``: values for ``${runtime_params:...}``, overriding parameters.
    runtime_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._loader: OmegaConfigLoader | None = None

    # ---------------------------------------------------------------- config

    @property
    def config(self) -> OmegaConfigLoader:
        """The project's configuration (read on first use)."""
        if self._loader is None:
            from dagloop.config import OmegaConfigLoader

            self._loader = OmegaConfigLoader(
                self.root / self.conf_source, self.env, self.runtime_params
            )
        return self._loader

    @property
    def settings(self) -> dict[str, Any]:
        """``[tool.dagloop]`` of the project's ``pyproject.toml`` (``{}`` if none)."""
        pyproject = self.root / "pyproject.toml"
        if not pyproject.is_file():
            return {}
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"{pyproject}: {exc}") from exc
        settings = data.get("tool", {}).get("dagloop", {})
        return dict(settings) if isinstance(settings, dict) else {}

    def catalog(
        self,
        load_versions: Mapping[str, str] | None = None,
        *,
        runner: dagloop.runner.AbstractRunner | None = None,
    ) -> DataCatalog:
        """The catalog of ``catalog*.yml`` with ``credentials*.yml``, and every
        parameter as a ``params:`` dataset (as Kedro's context adds them).

        For a ``ParallelRunner`` it is a ``SharedMemoryDataCatalog``, as
        Kedro's session makes it: that runner requires one. A relative local
        ``filepath`` is taken from the project's folder, as Kedro's context
        takes it, wherever the process runs from.

        Raises:
            BadConfigException: For configuration that cannot be read.
            DatasetError: For a catalog entry that is not a valid dataset
                definition (an unknown ``type`` is found when first used).
        """
        catalog_class = (
            SharedMemoryDataCatalog
            if isinstance(runner, dagloop.runner.ParallelRunner)
            else DataCatalog
        )
        catalog = catalog_class.from_config(
            _absolute_paths(self.config["catalog"], self.root),
            self.config["credentials"],
            load_versions=dict(load_versions or {}),
        )
        for name, value in parameter_inputs(self.config["parameters"]).items():
            catalog[name] = value
        return catalog

    # ------------------------------------------------------------- pipelines

    def pipelines(self) -> dict[str, Pipeline]:
        """The registry named by ``[tool.dagloop] pipelines`` (``{}`` if none).

        Raises:
            ProjectError: When the module cannot be imported or its
                ``register_pipelines()`` does not return pipelines by name.
        """
        module_name = self.settings.get("pipelines")
        if not module_name:
            return {}
        module = self._import(str(module_name), "the pipeline registry")
        register = getattr(module, "register_pipelines", None)
        if not callable(register):
            raise ProjectError(
                f"The pipeline registry {module_name} has no register_pipelines() "
                f"function returning {{name: pipeline}}"
            )
        registry = register()
        if not isinstance(registry, dict) or not all(
            isinstance(p, Pipeline) for p in registry.values()
        ):
            raise ProjectError(
                f"{module_name}.register_pipelines() should return {{name: Pipeline}}, "
                f"got {type(registry).__name__}"
            )
        return registry

    def pipeline(self, spec: str | None = None) -> Pipeline:
        """The pipeline ``spec`` names: ``module:attr`` (a ``Pipeline``, or a
        function returning one), a name in the registry, or, when ``None``, the
        registry's ``__default__``.

        Raises:
            ProjectError: Naming what is missing and how to name a pipeline.
        """
        if spec and ":" in spec:
            return self._pipeline_from(spec)
        registry = self.pipelines()
        name = spec or "__default__"
        if name in registry:
            return registry[name]
        if not registry:
            problem = (
                f"No pipeline registry to find '{spec}' in"
                if spec
                else "No pipeline given"
            )
            raise ProjectError(
                f"{problem}: pass --pipeline MODULE:ATTR (a Pipeline, or a "
                "function returning one), or name a registry in pyproject.toml: "
                '[tool.dagloop] pipelines = "package.pipeline_registry"'
            )
        raise ProjectError(
            f"No pipeline named '{name}' in the registry; it has: "
            f"{', '.join(sorted(registry))}"
        )

    def _pipeline_from(self, spec: str) -> Pipeline:
        module_name, _, attr = spec.partition(":")
        module = self._import(module_name, f"the pipeline {spec}")
        found = getattr(module, attr, None)
        if found is None:
            raise ProjectError(f"Module {module_name} has no attribute '{attr}'")
        if callable(found) and not isinstance(found, Pipeline):
            if inspect.signature(found).parameters and any(
                p.default is p.empty
                for p in inspect.signature(found).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ):
                raise ProjectError(
                    f"{spec} takes arguments: name a Pipeline, or a function that "
                    f"builds one without arguments"
                )
            found = found()
        if not isinstance(found, Pipeline):
            raise ProjectError(
                f"{spec} is a {type(found).__name__}, not a Pipeline (or a function "
                f"returning one)"
            )
        return found

    def _import(self, module_name: str, what: str) -> Any:
        """Import ``module_name`` with the project's ``src/`` and folder first
        on ``sys.path`` (and left there: worker processes import the nodes'
        functions from the same place).

        Raises:
            ProjectError: When the module is missing, or already imported from
                outside this project (another project with the same package
                name, in this process).
        """
        for folder in (self.root, self.root / "src"):  # src/ ends up first
            if folder.is_dir():
                if str(folder) in sys.path:
                    sys.path.remove(str(folder))
                sys.path.insert(0, str(folder))
        top = sys.modules.get(module_name.partition(".")[0])
        where = getattr(top, "__file__", None)
        if where and not _under(self.root, where) and _under_any_project(where):
            raise ProjectError(
                f"Cannot import {what} from {self.root}: a package named "
                f"'{module_name.partition('.')[0]}' is already imported from "
                f"{Path(where).parent}, in this process. Give the projects' "
                f"packages different names, or run each in its own process."
            )
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise ProjectError(
                    f"Cannot import {what}: no module named '{exc.name}' (looked in "
                    f"{self.root / 'src'}, {self.root} and the installed packages)"
                ) from exc
            exc.add_note(_importing(module_name, what, exc))
            raise
        except Exception as exc:  # the project's own code failed as it loaded
            exc.add_note(_importing(module_name, what, exc))
            raise

    # ----------------------------------------------------------------- runner

    @staticmethod
    def runner(name: str = "SequentialRunner", **options: Any) -> Any:
        """A runner by name: one of ``dagloop.runner``'s, or a dotted path to a
        runner class; ``options`` go to its constructor.

        Raises:
            ProjectError: For an unknown name, or an option the runner does
                not take.
        """
        runner_class = _runner_class(name)
        for option in options:
            if not _accepts(runner_class, option):
                raise ProjectError(
                    f"{runner_class.__name__} takes no '{option}' option"
                    + (
                        ": it runs one node at a time (ThreadRunner and "
                        "ParallelRunner take max_workers)"
                        if runner_class is dagloop.runner.SequentialRunner
                        else ""
                    )
                )
        return runner_class(**options)


def _accepts(cls: type, option: str) -> bool:
    """Whether ``cls(option=...)`` is accepted: its ``__init__`` or, through
    ``**kwargs``, a base class's names the parameter."""
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters
        if option in parameters:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return False
    return False


def where_it_runs(node: Any) -> str:
    """Where a node runs, as ``dagloop list`` says it: on the event loop for
    ``async def``, its ``executor=``, or wherever the runner puts it."""
    if node.is_async:
        return "async, on the event loop"
    if node.executor:
        return str(node.executor)
    return "the runner's choice"


def dataset_class(catalog: Any, name: str) -> str:
    """The class ``catalog`` gives dataset ``name`` (built to know it, since a
    short type's class depends on the entry), or why it cannot be built."""
    if name == "parameters" or name.startswith("params:"):
        return "parameters"
    if name not in catalog:
        return "MemoryDataset (not in the catalog)"
    try:
        dataset = catalog[name]
    except Exception as exc:  # described, not raised: list what can be listed
        # The entry's own type: get_type would import it, and fail the same way.
        configured = catalog.config_resolver.resolve_pattern(name).get("type")
        return f"{configured} (cannot be built: {error_line(exc.__cause__ or exc)})"
    cls = type(dataset)
    return f"{cls.__module__}.{cls.__qualname__}"


_STDLIB = sysconfig.get_paths()["stdlib"]


def _absolute_paths(config: Any, root: Path) -> Any:
    """``config`` with every relative local ``filepath`` made absolute under
    ``root`` (remote URLs, absolute paths and patterns' placeholders kept)."""
    if isinstance(config, dict):
        return {
            key: (
                _absolute(value, root)
                if key == "filepath" and isinstance(value, str)
                else _absolute_paths(value, root)
            )
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_absolute_paths(item, root) for item in config]
    return config


def _absolute(filepath: str, root: Path) -> str:
    if (
        re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", filepath)
        or Path(filepath).is_absolute()
    ):
        return filepath
    return (root / filepath).as_posix()


def _under(root: Path, file: str) -> bool:
    return Path(file).resolve().is_relative_to(root)


def _under_any_project(file: str) -> bool:
    """Whether ``file`` is a project's own code (not an installed package)."""
    return "site-packages" not in Path(file).parts and "dist-packages" not in (
        Path(file).parts
    )


def _importing(module_name: str, what: str, exc: Exception) -> str:
    """Where importing ``module_name`` failed: the last line of the project's
    code the traceback passes through (none for a syntax error, which says)."""
    skipped = ("<frozen", str(Path(dagloop.__file__).parent), _STDLIB)
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(skipped)
    ]
    where = f", at {frames[-1].filename}, line {frames[-1].lineno}" if frames else ""
    return f"(raised while importing {module_name}, {what}{where})"


def _runner_class(name: str) -> type[dagloop.runner.AbstractRunner]:
    ours = [
        n
        for n in dagloop.runner.__all__
        if isinstance(getattr(dagloop.runner, n), type)
        and issubclass(getattr(dagloop.runner, n), dagloop.runner.AbstractRunner)
        and n != "AbstractRunner"
    ]
    if name in ours:
        return getattr(dagloop.runner, name)  # type: ignore[no-any-return]
    if "." in name:
        try:
            found = load_obj(name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ProjectError(f"Cannot load runner {name}: {exc}") from exc
        if isinstance(found, type) and issubclass(found, dagloop.runner.AbstractRunner):
            return found
        raise ProjectError(f"{name} is not a dagloop runner class")
    raise ProjectError(
        f"Unknown runner '{name}': use one of {', '.join(sorted(ours))}, or a dotted "
        f"path to a runner class (my_package.runners.MyRunner)"
    )


def parameter_inputs(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as pipeline inputs, as Kedro names them: ``parameters`` for
    all of them, ``params:a`` for each key and ``params:a.b`` for nested ones."""
    inputs: dict[str, Any] = {"parameters": dict(parameters)}

    def add(prefix: str, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            inputs[f"params:{name}"] = value
            if isinstance(value, dict):
                add(name, value)

    add("", parameters)
    return inputs
