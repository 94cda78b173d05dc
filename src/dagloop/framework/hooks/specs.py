"""Hook specifications: the points where user code can observe or change a run.

Implementations may accept any subset of a hook's arguments. The runner calls node
and dataset hooks; pipeline, catalog and context hooks are called by whatever
creates the catalog and starts the run (Kedro's session, or your own code).
"""

from __future__ import annotations

from typing import Any

from dagloop.framework.hooks.markers import hook_spec

__all__ = [
    "DataCatalogSpecs",
    "DatasetSpecs",
    "KedroContextSpecs",
    "NodeSpecs",
    "PipelineSpecs",
]


class DataCatalogSpecs:
    """Hooks around catalog creation."""

    @hook_spec
    def after_catalog_created(
        self,
        catalog: Any,
        conf_catalog: dict[str, Any],
        conf_creds: dict[str, Any],
        parameters: dict[str, Any],
        save_version: str,
        load_versions: dict[str, str],
    ) -> None:
        """Called once a catalog has been built from configuration."""


class NodeSpecs:
    """Hooks around each node's execution."""

    @hook_spec
    def before_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> dict[str, Any] | None:
        """Called after a node's inputs are loaded, before it runs.

        Returns:
            ``None``, or a dict of input values that replace the loaded ones.
        """

    @hook_spec
    def after_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        """Called after a node returned, before its outputs are saved."""

    @hook_spec
    def on_node_error(
        self,
        error: Exception,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        """Called when a node's function raises, before the error propagates."""


class PipelineSpecs:
    """Hooks around a whole run."""

    @hook_spec
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        """Called before a pipeline runs."""

    @hook_spec
    def after_pipeline_run(
        self,
        run_params: dict[str, Any],
        run_result: dict[str, Any],
        pipeline: Any,
        catalog: Any,
    ) -> None:
        """Called after a pipeline ran successfully."""

    @hook_spec
    def on_pipeline_error(
        self,
        error: Exception,
        run_params: dict[str, Any],
        pipeline: Any,
        catalog: Any,
    ) -> None:
        """Called when a pipeline run fails."""


class DatasetSpecs:
    """Hooks around each dataset load and save a node makes."""

    @hook_spec
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        """Called before a node's input is loaded."""

    @hook_spec
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called after a node's input is loaded."""

    @hook_spec
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called before a node's output (or one chunk of it) is saved."""

    @hook_spec
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called after a node's output (or one chunk of it) is saved."""


class KedroContextSpecs:
    """Hooks around a Kedro project context."""

    @hook_spec
    def after_context_created(self, context: Any) -> None:
        """Called once a project context exists."""
