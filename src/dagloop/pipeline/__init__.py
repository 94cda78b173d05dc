"""The pipeline model: nodes, pipelines and how they are combined and filtered.

Pure and synchronous: nothing here performs I/O or knows about catalogs or runners.
"""

from __future__ import annotations

from dagloop.pipeline.node import GroupedNodes, Node, node
from dagloop.pipeline.pipeline import Pipeline, pipeline

__all__ = ["GroupedNodes", "Node", "Pipeline", "node", "pipeline"]
