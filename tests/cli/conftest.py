"""A small project in ``tmp_path`` for each test of the ``dagloop`` command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.cli._project import CATALOG, NODES, PARAMETERS, ProjectDir

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def project(tmp_path: Path) -> ProjectDir:
    """``nodes.py`` (make -> double -> total), a catalog saving ``numbers`` and
    ``total`` as JSON, and parameters ``start`` and ``scale``."""
    folder = ProjectDir(tmp_path / "project")
    folder.write("nodes.py", NODES)
    folder.write("conf/base/catalog.yml", CATALOG)
    folder.write("conf/base/parameters.yml", PARAMETERS)
    return folder
