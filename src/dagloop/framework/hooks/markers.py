"""Markers for hook specifications and implementations.

dagloop uses Kedro's hook namespace, ``"kedro"``: a hook class marked with
``kedro.framework.hooks.hook_impl`` and one marked with dagloop's ``hook_impl``
are the same to pluggy, so existing Kedro hook classes work unchanged.
"""

from __future__ import annotations

import pluggy

__all__ = ["HOOK_NAMESPACE", "hook_impl", "hook_spec"]

HOOK_NAMESPACE = "kedro"

hook_spec = pluggy.HookspecMarker(HOOK_NAMESPACE)
hook_impl = pluggy.HookimplMarker(HOOK_NAMESPACE)
