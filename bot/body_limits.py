"""Request body limits per route: small by default, larger only where a route declares it needs more.

aiohttp's ``client_max_size`` is one number for the whole application; here each
route gets its own. A body announced (``Content-Length``) over the route's limit
is refused with 413 before any of it is read; a body sent without a length is
read only up to the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

from aiohttp import web
from aiohttp.typedefs import Middleware

#: Route path (as registered) → the largest body it accepts, in bytes.
BODY_LIMITS = web.AppKey("body_limits", dict[str, int])

Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]


def limit_body(app: web.Application, path: str, limit: int) -> None:
    """Let the route registered at ``path`` accept bodies up to ``limit`` bytes (instead of the default)."""
    if BODY_LIMITS not in app:
        app[BODY_LIMITS] = {}
    app[BODY_LIMITS][path] = limit


def too_large(limit: int) -> web.Response:
    """The 413 answer, naming the limit."""
    return web.Response(status=413, text=f"the request body is larger than this address accepts ({limit} bytes)")


def route_limit(request: web.Request, default: int) -> int:
    """The body limit of the route ``request`` was matched to."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else ""
    return request.app.get(BODY_LIMITS, {}).get(path, default)


def body_limit_middleware(*, default: int) -> Middleware:
    """A middleware that holds every route to its limit (``default`` unless the route declared one)."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = route_limit(request, default)
        if request.content_length is not None and request.content_length > allowed:
            return too_large(allowed)
        # read(), post() and json() stop with 413 once more than the route's limit has arrived
        return await handler(request.clone(client_max_size=allowed))

    return limit


async def read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body if it is at most ``limit`` bytes, else None; never reads more than ``limit`` + one chunk."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
