"""Tests for ``dagloop.pipeline.transcoding``: splitting ``name@format`` names."""

from __future__ import annotations

import pytest

from dagloop.pipeline.transcoding import (
    TRANSCODING_SEPARATOR,
    _strip_transcoding,
    _transcode_split,
)


def test_separator_is_at_sign():
    assert TRANSCODING_SEPARATOR == "@"


class TestTranscodeSplit:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("cars@pandas", ("cars", "pandas")),
            ("cars", ("cars", "")),
            ("cars@", ("cars", "")),
            ("@pandas", ("", "pandas")),
            ("params:alpha@spark", ("params:alpha", "spark")),
            ("ns.cars@spark", ("ns.cars", "spark")),
        ],
    )
    def test_split(self, name, expected):
        assert _transcode_split(name) == expected

    def test_returns_a_tuple(self):
        assert isinstance(_transcode_split("cars@pandas"), tuple)
        assert isinstance(_transcode_split("cars"), tuple)

    @pytest.mark.parametrize(
        ("name", "count"),
        [("a@b@c", 2), ("a@@b", 2), ("@@", 2), ("x@y@z@w", 3)],
    )
    def test_more_than_one_separator_is_rejected(self, name, count):
        with pytest.raises(ValueError) as excinfo:
            _transcode_split(name)
        assert str(excinfo.value) == (
            f"Expected maximum 1 transcoding separator, found {count} "
            f"instead: '{name}'."
        )


class TestStripTranscoding:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("cars@pandas", "cars"),
            ("cars", "cars"),
            ("cars@", "cars"),
            ("ns.cars@spark", "ns.cars"),
        ],
    )
    def test_strip(self, name, expected):
        assert _strip_transcoding(name) == expected

    def test_more_than_one_separator_is_rejected(self):
        with pytest.raises(ValueError) as excinfo:
            _strip_transcoding("a@b@c")
        assert str(excinfo.value) == (
            "Expected maximum 1 transcoding separator, found 2 instead: 'a@b@c'."
        )
