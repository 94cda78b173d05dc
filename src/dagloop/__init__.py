"""dagloop: an asyncio-native dataflow engine that speaks Kedro's pipeline API.

Kedro users switch by changing ``kedro.`` to ``dagloop.`` in their imports; the
pipeline, catalog and runner APIs keep Kedro 1.1's names, defaults and errors.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "DagloopDeprecationWarning",
    "KedroDeprecationWarning",
    "KedroPythonVersionWarning",
    "__version__",
]


class KedroDeprecationWarning(DeprecationWarning):
    """Warns about API that Kedro deprecated; kept under Kedro's name for filters."""


class KedroPythonVersionWarning(UserWarning):
    """Warns about a Python version the Kedro API does not support."""


#: dagloop's own name for the deprecation warning; the same class, so one filter
#: catches both spellings.
DagloopDeprecationWarning = KedroDeprecationWarning
