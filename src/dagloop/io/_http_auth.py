"""Authentication for ``HTTPDataset``: its ``auth`` and ``credentials`` arguments.

Error messages here name keys and argument names, never the secret values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from dagloop.io.core import DatasetError

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["request_auth"]


def request_auth(auth: Any, credentials: Any) -> httpx.Auth | None:
    """The request authentication from ``auth`` or ``credentials`` (not both)."""
    if auth is not None and credentials is not None:
        raise DatasetError("Cannot specify both 'auth' and 'credentials'.")
    if credentials is not None:
        return _from_credentials(credentials)
    if auth is None or isinstance(auth, httpx.Auth):
        return auth
    return _basic_auth(auth, "auth")


def _from_credentials(credentials: Any) -> httpx.Auth:
    if not isinstance(credentials, Mapping):
        return _basic_auth(credentials, "credentials")
    keys = set(credentials)
    if keys == {"token"}:
        return _BearerAuth(str(credentials["token"]))
    if keys == {"username", "password"}:
        return httpx.BasicAuth(credentials["username"], credentials["password"])
    # Name the keys only: the values are secrets.
    raise DatasetError(
        f"HTTPDataset credentials must hold either 'token', or 'username' and "
        f"'password'; got the keys {sorted(keys)}."
    )


def _basic_auth(pair: Any, argument: str) -> httpx.BasicAuth:
    if isinstance(pair, tuple | list) and len(pair) == 2:
        return httpx.BasicAuth(str(pair[0]), str(pair[1]))
    raise DatasetError(
        f"HTTPDataset '{argument}' must be a (username, password) pair"
        f"{' or an httpx.Auth' if argument == 'auth' else ''}."
    )


class _BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``, dropped by httpx on cross-origin redirects."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(token='***')"  # never show the secret
