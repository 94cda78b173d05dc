"""Checks on how the documents' code blocks are collected (see _sybil.py).

The blocks themselves run as tests collected beside this module: ``pytest
tests/docs -v`` lists them as ``README.md::line:N,column:1``, ``docs/...``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from ._sybil import DOCS, documents, evaluate_python

if TYPE_CHECKING:
    from pathlib import Path

PYTHON_BLOCK = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?(?:```[ \t]*python|<!-- invisible-code-block: python)$",
    re.M,
)
OTHER_PY_FENCE = re.compile(r"^[ \t]*```[ \t]*(py|python\S+|Python)\b.*$", re.M)
SKIP = re.compile(r"<!--\s*skip:\s*(\w+)(.*?)-->")


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_every_python_block_is_collected(doc: Path) -> None:
    """Each ```python block, shown or invisible, is an example; no other spelling."""
    text = doc.read_text(encoding="utf-8")
    blocks = [
        example
        for example in DOCS.parse(doc).examples()
        if example.region.evaluator is evaluate_python
    ]
    assert len(blocks) == len(PYTHON_BLOCK.findall(text))
    assert OTHER_PY_FENCE.findall(text) == []


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.name)
def test_every_skip_says_why(doc: Path) -> None:
    """A skipped block carries its reason, visible in the Markdown source."""
    for action, reason in SKIP.findall(doc.read_text(encoding="utf-8")):
        assert action == "next", "skip one block at a time, each with its reason"
        assert re.fullmatch(r'\s*"[^"]{10,}"\s*', reason), f"no reason: {reason!r}"


BROKEN = """\
Some text.

```python
value = 1
```

```python
async def twice(x):
    return 2 * x


assert await twice(value) == 3
```
"""


def test_a_failing_block_fails(tmp_path: Path) -> None:
    """The wiring really runs blocks, with top-level await, in one namespace."""
    doc = tmp_path / "broken.md"
    doc.write_text(BROKEN, encoding="utf-8")
    first, second = DOCS.parse(doc).examples()
    first.evaluate()
    with pytest.raises(AssertionError):
        second.evaluate()


YAML = """\
```yaml
# conf/base/catalog.yml
cars:
  type: pandas.CSVDataset

# conf/local/credentials.yml
dev_s3:
  key: ...
```
"""


def test_a_yaml_block_is_written_to_the_files_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each part of a block showing several files goes to its own file."""
    doc = tmp_path / "yaml.md"
    doc.write_text(YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (block,) = DOCS.parse(doc).examples()
    block.evaluate()
    catalog = (tmp_path / "conf/base/catalog.yml").read_text(encoding="utf-8")
    credentials = (tmp_path / "conf/local/credentials.yml").read_text(encoding="utf-8")
    assert catalog.startswith("# conf/base/catalog.yml\ncars:")
    assert "dev_s3" not in catalog
    assert credentials == "# conf/local/credentials.yml\ndev_s3:\n  key: ...\n"
