"""File path helpers: protocols, versioned paths and name checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dagloop.io._errors import DatasetError

if TYPE_CHECKING:
    import os
    from pathlib import PurePath

HTTP_PROTOCOLS = ("http", "https")
CLOUD_PROTOCOLS = (
    "abfs",
    "abfss",
    "adl",
    "gcs",
    "gdrive",
    "gs",
    "oci",
    "oss",
    "s3",
    "s3a",
    "s3n",
)
PROTOCOL_DELIMITER = "://"


def _parse_filepath(filepath: str) -> dict[str, str]:
    """Split ``filepath`` into ``{"protocol": ..., "path": ...}``.

    Local paths (including Windows drive paths) have protocol ``"file"``; for cloud
    URLs the bucket (host) becomes part of the path, as filesystem libraries expect.
    """
    if re.match(r"^[a-zA-Z]:[\\/]", filepath) or not re.match(
        r"^[a-zA-Z0-9]+://", filepath
    ):
        return {"protocol": "file", "path": filepath}
    parts = urlsplit(filepath)
    protocol = parts.scheme or "file"
    if protocol in HTTP_PROTOCOLS:
        return {"protocol": protocol, "path": filepath}
    path = parts.path
    if protocol == "file":
        windows = re.match(r"^/([a-zA-Z])[:|]([\\/].*)$", path)
        if windows:
            path = ":".join(windows.groups())
    if parts.query:
        path = f"{path}?{parts.query}"
    if parts.fragment:
        path = f"{path}#{parts.fragment}"
    if parts.netloc and protocol in CLOUD_PROTOCOLS:
        host = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]
        if protocol in ("abfss", "oci") and parts.username:
            host = f"{parts.username}@{host}"
        path = host + path
    return {"protocol": protocol, "path": path}


def get_protocol_and_path(
    filepath: str | os.PathLike[str], version: Any = None
) -> tuple[str, str]:
    """Return ``(protocol, path)`` for a local path or URL.

    Raises:
        DatasetError: For an HTTP(S) URL with a version (HTTP is not versionable).
    """
    parsed = _parse_filepath(str(filepath))
    protocol, path = parsed["protocol"], parsed["path"]
    if protocol in HTTP_PROTOCOLS:
        if version is not None:
            raise DatasetError(
                "Versioning is not supported for HTTP protocols. "
                "Please remove the `versioned` flag from the dataset configuration."
            )
        path = path.split(PROTOCOL_DELIMITER, 1)[-1]
    return protocol, path


def get_filepath_str(raw_path: PurePath, protocol: str) -> str:
    """The path as a string for a filesystem call; HTTP(S) gets its scheme back."""
    path = raw_path.as_posix()
    if protocol in HTTP_PROTOCOLS:
        path = f"{protocol}{PROTOCOL_DELIMITER}{path}"
    return path


def validate_on_forbidden_chars(**kwargs: str) -> None:
    """Reject values containing white-space or ``;``.

    Raises:
        DatasetError: Naming the offending argument.
    """
    for key, value in kwargs.items():
        if " " in value or ";" in value:
            raise DatasetError(
                f"Neither white-space nor semicolon are allowed in '{key}'."
            )


def is_parameter(dataset_name: str) -> bool:
    """Whether ``dataset_name`` refers to parameters (``params:x`` or ``parameters``)."""
    return dataset_name.startswith("params:") or dataset_name == "parameters"
