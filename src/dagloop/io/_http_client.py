"""One ``httpx.AsyncClient`` per event loop, shared by every HTTP dataset on it.

A client owns a connection pool. Creating one per request would open a new TCP (and
TLS) connection every time; keeping one per dataset would leak it when the dataset
is dropped. Instead, :func:`shared_http_client` lends out the loop's one client and
counts its users:

* the runner holds it open for a whole run, so every node of the run, and every run
  sharing that event loop, reuses one pool;
* a dataset used outside any run opens it around its own request, and the client is
  closed as soon as that request is done, so nothing leaks.

How clients are built can be replaced with :func:`using_client_factory`, for tests
(``httpx.ASGITransport``) or for settings such as proxies and certificates.
"""

from __future__ import annotations

from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio
from anyio.lowlevel import RunVar, RunvarToken

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    import httpx

__all__ = [
    "DEFAULT_LIMITS",
    "ClientFactory",
    "default_client",
    "http_pool_scope",
    "shared_http_client",
    "using_client_factory",
]

#: Pool limits of the shared client, for all HTTP datasets on an event loop together:
#: at most 100 connections open at once (further requests wait for a free one), of
#: which 20 are kept alive for reuse for up to 5 s after their last response.
#: These are httpx's own defaults, written out because they now bound a whole run.
#: ``DEFAULT_LIMITS`` is built on first access: httpx is imported only when HTTP is
#: used, so runs without HTTP datasets (and worker processes) never pay for it.
DEFAULT_LIMITS: httpx.Limits


@cache
def _default_limits() -> httpx.Limits:
    import httpx

    return httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0
    )


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_LIMITS":
        return _default_limits()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Builds the client of an event loop; called once each time a loop needs a client.
ClientFactory: TypeAlias = "Callable[[], httpx.AsyncClient]"


def default_client(**overrides: Any) -> httpx.AsyncClient:
    """A client with dagloop's defaults; ``overrides`` are ``httpx.AsyncClient`` args.

    Defaults: :data:`DEFAULT_LIMITS`, with requests beyond the pool's connections
    waiting outside it (:class:`~dagloop.io._http_transport.InFlightLimit`); HTTP/1.1
    only (HTTP/2 would need the optional
    ``h2`` package, and one connection per request suits dataset I/O well); redirects
    followed (unlike httpx's default), because Kedro's ``APIDataset`` on ``requests``
    follows them and catalog URLs are often moved resources; proxy settings and
    certificates from the environment (``trust_env``), as httpx does.

    Args:
        **overrides: Replace or add keyword arguments, e.g. ``transport=`` or
            ``verify=``.

    Returns:
        A new, not yet used client; whoever creates it must close it.
    """
    import httpx

    from dagloop.io._http_transport import InFlightLimit

    limits = overrides.pop("limits", None) or _default_limits()
    transport = overrides.pop("transport", None) or httpx.AsyncHTTPTransport(
        limits=limits,
        http1=True,
        http2=False,
        verify=overrides.pop("verify", True),
        cert=overrides.pop("cert", None),
        trust_env=overrides.get("trust_env", True),
    )
    options: dict[str, Any] = {"follow_redirects": True, **overrides}
    # Requests beyond the pool's connections wait outside it (see _http_transport).
    limit = limits.max_connections or 100
    return httpx.AsyncClient(transport=InFlightLimit(transport, limit), **options)


# A ContextVar rather than a module global: a test or an application can replace the
# factory for its own task (and the tasks and worker threads it starts) without
# affecting code running concurrently elsewhere.
_client_factory: ContextVar[ClientFactory] = ContextVar(
    "dagloop_http_client_factory", default=default_client
)


@contextmanager
def using_client_factory(factory: ClientFactory) -> Iterator[None]:
    """Build the shared clients with ``factory`` inside this block (the test hook).

    The factory is consulted only when an event loop has no shared client yet, i.e.
    by the first :func:`shared_http_client` entered on that loop; clients already
    lent out are unaffected. The setting follows the current context: tasks and
    AnyIO worker threads started inside the block see it, an event loop started in
    another thread (``run_sync`` from a running loop) does not.

    Example::

        app_client = lambda: default_client(transport=httpx.ASGITransport(app))
        with using_client_factory(app_client):
            data = await HTTPDataset(url="http://test/items").aload()

    Args:
        factory: Returns a new ``httpx.AsyncClient``; it is closed by dagloop.
    """
    token = _client_factory.set(factory)
    try:
        yield
    finally:
        _client_factory.reset(token)


@dataclass
class _Lease:
    """The loop's client, how many holders it has, and how to unregister it.

    ``client`` is created on first use, so a run that holds the pool open but
    makes no HTTP request never pays for building a client.
    """

    client: httpx.AsyncClient | None = None
    token: RunvarToken[_Lease] | None = None
    holders: int = 0


# Per event loop, not per process: a client's connections belong to the loop that
# opened them and cannot be used from another one.
_lease: RunVar[_Lease] = RunVar("dagloop_http_client")


@asynccontextmanager
async def shared_http_client() -> AsyncIterator[httpx.AsyncClient]:
    """Borrow the current event loop's shared client for the duration of the block.

    The first holder creates the client, later holders reuse it, and the last one to
    leave closes it, so the connection pool lives exactly as long as someone uses it.
    Do not close the yielded client yourself.

    No lock guards the holder count: it is only touched on the event loop's thread
    (a RunVar cannot be reached from elsewhere), and each update runs with no
    ``await`` in between, so no other task can interleave. The only ``await`` is
    closing the client, done after it is unregistered: a task entering meanwhile
    gets a fresh client rather than one being closed.

    Yields:
        The loop's ``httpx.AsyncClient``.
    """
    lease = _acquire()
    try:
        if lease.client is None:
            lease.client = _client_factory.get()()
        yield lease.client
    finally:
        await _release(lease)


@asynccontextmanager
async def http_pool_scope() -> AsyncIterator[None]:
    """Keep the loop's shared client alive for the block, without creating it.

    A runner holds this for a whole run: every HTTP dataset of the run (and of
    concurrent runs on the same loop) then shares one connection pool, which is
    closed when the last holder leaves. If nothing makes a request, no client is
    ever built.
    """
    lease = _acquire()
    try:
        yield
    finally:
        await _release(lease)


def _acquire() -> _Lease:
    """Take a hold on the loop's client registration, creating it if needed."""
    lease = _lease.get(None)
    if lease is None:
        lease = _Lease()
        lease.token = _lease.set(lease)
    lease.holders += 1
    return lease


async def _release(lease: _Lease) -> None:
    """Drop a hold; the last holder unregisters the client and closes it."""
    lease.holders -= 1
    if lease.holders:
        return
    if lease.token is not None:
        _lease.reset(lease.token)
    if lease.client is None:
        return
    # Shielded: a holder leaving because it was cancelled must still close the pool,
    # or its sockets would leak.
    with anyio.CancelScope(shield=True):
        await lease.client.aclose()
