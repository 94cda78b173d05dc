"""Pictures of pipelines and runs: a Mermaid flowchart, a page drawing the DAG,
and a Gantt chart of where a run's time went (from its run events).

Every page is one self-contained HTML file (style and script inline, nothing
fetched), so it opens offline, from a CI artifact or an e-mail.
"""

from __future__ import annotations

from dagloop.viz._mermaid import mermaid
from dagloop.viz._pipeline_page import pipeline_html
from dagloop.viz._timeline import timeline_html, timeline_svg

__all__ = ["mermaid", "pipeline_html", "timeline_html", "timeline_svg"]
