"""Transcoding: ``name@format`` names one logical dataset stored in several ways.

Two catalog entries such as ``cars@pandas`` and ``cars@spark`` are the same dataset
to the pipeline graph (dependencies and output uniqueness use the base name), yet
separate entries to the catalog.
"""

from __future__ import annotations

__all__ = ["TRANSCODING_SEPARATOR"]

TRANSCODING_SEPARATOR = "@"


def _transcode_split(element: str) -> tuple[str, str]:
    """Split ``name@fmt`` into ``(name, fmt)``; ``fmt`` is ``""`` when absent.

    Raises:
        ValueError: When the name holds more than one separator.
    """
    base, sep, suffix = element.partition(TRANSCODING_SEPARATOR)
    if sep and TRANSCODING_SEPARATOR in suffix:
        found = element.count(TRANSCODING_SEPARATOR)
        raise ValueError(
            f"Expected maximum 1 transcoding separator, found {found} "
            f"instead: '{element}'."
        )
    return base, suffix


def _strip_transcoding(element: str) -> str:
    """Return the base name of a possibly transcoded dataset name."""
    if TRANSCODING_SEPARATOR not in element:
        return element
    return _transcode_split(element)[0]
