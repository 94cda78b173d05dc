"""Small text helpers shared by the displays (progress lines, pictures)."""

from __future__ import annotations


def error_line(error: BaseException | None) -> str:
    """``error`` on one line: ``"Type: first line of its message"``.

    Never raises: an exception whose ``__str__`` fails is shown by its type.
    """
    if error is None:
        return "no error"
    try:
        message = str(error)
    except Exception:
        message = ""
    first = message.splitlines()[0] if message else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
