"""``HTTPDataset``: data loaded from and saved to an HTTP endpoint, natively async.

Requests go through the event loop's shared ``httpx.AsyncClient``
(:func:`shared_http_client`), so the datasets of a run share one connection pool,
and a dataset used on its own closes its connections when done.
:func:`using_client_factory` and :func:`default_client` customise that client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

import httpx

from dagloop.io._http_auth import request_auth
from dagloop.io._http_client import (
    default_client,
    shared_http_client,
    using_client_factory,
)
from dagloop.io.core import AbstractDataset, DatasetError

# The shared-client helpers are re-exported here, their public home.
__all__ = [
    "BodyFormat",
    "HTTPDataset",
    "default_client",
    "shared_http_client",
    "using_client_factory",
]

#: How a response body is decoded on load, and how data is encoded on save.
BodyFormat = Literal["json", "text", "bytes"]

_FORMATS: tuple[str, ...] = get_args(BodyFormat)
_RESERVED_ARGS = frozenset({"method", "url"})
_BODY_ARGS = frozenset({"content", "data", "files", "json"})
_CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "bytes": "application/octet-stream",
}
_SNIPPET_CHARS = 200
_PREFIXES = {
    "load": "Failed while loading data from dataset",
    "save": "Failed while saving data to dataset",
}


class HTTPDataset(AbstractDataset[Any, Any]):
    """Loads the body of an HTTP response; saves data as the body of a request.

    Example catalog entry::

        weather:
          type: HTTPDataset
          url: https://api.example.com/forecast
          params: {city: Oslo}
          credentials: weather_api   # {token: ...} in credentials.yml

    Loading sends ``method`` to ``url`` and decodes the body per ``response_format``.
    Saving sends the data with ``save_args["method"]`` (default ``POST``), encoded
    per ``save_args["format"]`` (default ``"json"``). ``params``, ``headers``,
    ``timeout`` and the authentication apply to both.

    A 4xx/5xx response, a failed connection or a timeout raises
    :class:`~dagloop.io.DatasetError` naming the method and URL (and the status and
    the start of the body), with the httpx exception as ``__cause__``.

    ``exists()`` sends a ``HEAD`` request (so no body is downloaded) and is ``True``
    for a 2xx answer after redirects, ``False`` for any other status, including
    servers that do not allow ``HEAD``; it raises only when no answer comes back.
    """

    def __init__(
        self,
        url: str,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        response_format: BodyFormat = "json",
        timeout: float | None = 10.0,
        auth: httpx.Auth | tuple[str, str] | list[str] | None = None,
        credentials: Mapping[str, str] | tuple[str, str] | list[str] | None = None,
        load_args: Mapping[str, Any] | None = None,
        save_args: Mapping[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Configure the endpoint; nothing is sent until the first load or save.

        Args:
            url: Absolute ``http://`` or ``https://`` URL.
            method: HTTP method for loading (``GET``, or e.g. ``POST`` for a query
                sent with ``load_args={"json": ...}``).
            params: Query parameters for every request.
            headers: Headers for every request.
            response_format: Decode loaded bodies as ``"json"`` (parsed),
                ``"text"`` (str) or ``"bytes"``.
            timeout: Seconds to wait for connecting, and then for each read or write
                (``None``: wait forever). Waiting for a free connection of the
                shared pool is not limited: every request ahead holds its connection
                only until its own timeout.
            auth: A ``(username, password)`` pair for HTTP Basic auth, or any
                ``httpx.Auth``.
            credentials: What a catalog's ``credentials:`` entry supplies:
                ``{"token": ...}`` for an ``Authorization: Bearer`` header,
                ``{"username": ..., "password": ...}`` (or a pair, as Kedro's
                ``APIDataset`` takes) for Basic auth. Not together with ``auth``.
            load_args: Extra ``httpx.AsyncClient.request`` arguments for loading
                (``json=``, ``content=``, ``cookies=``...); ``params`` and
                ``headers`` given here are merged over the dataset's own.
            save_args: ``method`` (default ``"POST"``) and ``format`` (``"json"``,
                ``"text"`` or ``"bytes"``, default ``"json"``) for saving; other
                keys are extra request arguments, as in ``load_args``.
            metadata: Free-form information about the dataset, kept as given.

        Raises:
            DatasetError: When an argument is invalid.
        """
        self._url = _checked_url(url)
        self._method = method.upper()
        self._format = _checked_format(response_format, "'response_format'")
        self._request: dict[str, Any] = {
            "params": dict(params or {}),
            "headers": dict(headers or {}),
            "timeout": httpx.Timeout(timeout, pool=None),
            "auth": request_auth(auth, credentials),
        }
        self._load_args = _checked_args(load_args or {}, "load_args")
        save = dict(save_args or {})
        self._save_method = str(save.pop("method", "POST")).upper()
        self._save_format = _checked_format(
            save.pop("format", "json"), "save_args 'format'"
        )
        self._save_args = _checked_args(save, "save_args")
        self.metadata = metadata

    if TYPE_CHECKING:
        # AbstractDataset generates these from _aload/_asave when the class is
        # created; declared for type checkers, which would call the class abstract.
        def load(self) -> Any: ...
        def save(self, data: Any) -> None: ...

    async def _aload(self) -> Any:
        request = _merged(self._request, self._load_args)
        response = await self._send(self._method, request, "load")
        self._raise_for_status(response, "load")
        return self._decode(response)

    async def _asave(self, data: Any) -> None:
        # The body's default Content-Type gives way to headers the user configured.
        request = _merged(_body(data, self._save_format), self._request)
        request = _merged(request, self._save_args)
        response = await self._send(self._save_method, request, "save")
        self._raise_for_status(response, "save")

    async def _aexists(self) -> bool:
        request = _merged(self._request, self._load_args)
        request = {k: v for k, v in request.items() if k not in _BODY_ARGS}
        response = await self._send("HEAD", request, "exists")
        return response.is_success

    def _describe(self) -> dict[str, Any]:
        return {
            "url": _shown_url(self._url),
            "method": self._method,
            "params": self._request["params"] or None,
            "response_format": self._format,
        }

    async def _send(
        self, method: str, request: dict[str, Any], action: str
    ) -> httpx.Response:
        """Send one request on the loop's shared client; failures become DatasetError."""
        try:
            async with shared_http_client() as client:
                return await client.request(method, self._url, **request)
        except httpx.HTTPError as exc:
            detail = f"{method} {_shown_url(self._url)} failed: {_explain(exc)}"
            raise self._error(action, detail) from exc

    def _raise_for_status(self, response: httpx.Response, action: str) -> None:
        if not response.is_error:
            return
        try:
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise self._error(action, self._status_detail(response)) from exc

    def _status_detail(self, response: httpx.Response) -> str:
        method = response.request.method
        status = f"HTTP {response.status_code} {response.reason_phrase}"
        detail = f"{method} {_shown_url(self._url)} returned {status}"
        if response.history:
            detail += f" (redirected to {_shown_url(response.url)})"
        return detail + _snippet(response)

    def _decode(self, response: httpx.Response) -> Any:
        if self._format == "bytes":
            return response.content
        if self._format == "text":
            return response.text
        try:
            return response.json()
        except ValueError as exc:  # JSONDecodeError, or a body that is not text
            detail = (
                f"{self._method} {_shown_url(self._url)} returned a body that is not "
                f"JSON ({exc}); use response_format='text' or 'bytes' to load it as "
                f"it is{_snippet(response)}"
            )
            raise self._error("load", detail) from exc

    def _error(self, action: str, detail: str) -> DatasetError:
        """The DatasetError for a failed ``action``, in Kedro's message format."""
        if action not in _PREFIXES:
            # aexists()/exists() put their own "Failed during exists check" around it.
            return DatasetError(detail)
        return DatasetError(f"{_PREFIXES[action]} {self!s}.\n{detail}")


def _checked_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DatasetError(f"HTTPDataset got an invalid URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DatasetError(
            f"HTTPDataset needs an absolute http:// or https:// URL, got {url!r}."
        )
    return parsed


def _checked_format(value: Any, argument: str) -> BodyFormat:
    if value not in _FORMATS:
        raise DatasetError(
            f"HTTPDataset {argument} must be one of {list(_FORMATS)}, got {value!r}."
        )
    fmt: BodyFormat = value
    return fmt


def _checked_args(args: Mapping[str, Any], argument: str) -> dict[str, Any]:
    reserved = sorted(_RESERVED_ARGS.intersection(args))
    if reserved:
        raise DatasetError(
            f"HTTPDataset {argument} cannot set {reserved}: use the dataset's 'url' "
            f"and 'method' arguments (and save_args 'method' for saving)."
        )
    return dict(args)


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``extra``; headers and params are merged, not replaced."""
    merged = {**base, **extra}
    if "headers" in base and "headers" in extra:
        headers = httpx.Headers(base["headers"])
        headers.update(extra["headers"])  # case-insensitive, as HTTP headers are
        merged["headers"] = headers
    if isinstance(base.get("params"), Mapping) and isinstance(
        extra.get("params"), Mapping
    ):
        merged["params"] = {**base["params"], **extra["params"]}
    return merged


def _body(data: Any, fmt: BodyFormat) -> dict[str, Any]:
    """Request arguments that send ``data`` encoded as ``fmt``."""
    if fmt == "json":
        return {"json": data}
    expected = str if fmt == "text" else bytes | bytearray | memoryview
    if not isinstance(data, expected):
        raise TypeError(
            f"save_args format {fmt!r} saves {'str' if fmt == 'text' else 'bytes'} "
            f"data, got {type(data).__name__}; choose the format that matches it."
        )
    content = data.encode() if isinstance(data, str) else bytes(data)
    return {"content": content, "headers": {"Content-Type": _CONTENT_TYPES[fmt]}}


def _explain(exc: httpx.HTTPError) -> str:
    """What went wrong, and what to try, for a request that got no response."""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"{what}. The server did not answer in time; raise 'timeout' if it is slow."
        )
    if isinstance(exc, httpx.ConnectError):
        return f"{what}. Check the URL and that the server is running and reachable."
    return what


def _shown_url(url: httpx.URL) -> str:
    """``url`` for messages and repr, with any password in it masked."""
    if url.password:
        url = url.copy_with(username=url.username, password="***")
    return str(url)


def _snippet(response: httpx.Response) -> str:
    """``": <start of the body>"`` for error messages; empty for an empty body."""
    text = " ".join(response.text.split())
    if not text:
        return ""
    cut = "..." if len(text) > _SNIPPET_CHARS else ""
    return f": {text[:_SNIPPET_CHARS]}{cut}"
