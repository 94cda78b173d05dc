"""Project configuration in YAML: ``conf/base`` overlaid by ``conf/<env>``.

Kedro's configuration rules (file patterns, environments, ``${...}``
interpolation with OmegaConf, ``${globals:...}``, ``${runtime_params:...}``,
``_``-templates), without Kedro's framework. Needs the ``dagloop[cli]`` extra
(OmegaConf); ``import dagloop`` does not import it.
"""

from __future__ import annotations

from dagloop.config.omegaconf_config import (
    BadConfigException,
    MissingConfigException,
    OmegaConfigLoader,
)

__all__ = ["BadConfigException", "MissingConfigException", "OmegaConfigLoader"]
