"""Which web pages may talk to the server: Studio's, and no other.

A server on ``127.0.0.1`` is reachable from every page its developer's
browser opens. A page cannot read a cross-origin answer unless CORS allows
it, but it can still send a "simple" request (a ``text/plain`` POST needs no
preflight), and with ``MEDIATOR_AUTH=none`` such a request runs as an
operator. So two things hold together:

* the server's CORS answers only Studio's origins (``http.cors`` in
  ``langgraph.json`` and ``aegra.json``), so no other page may send a header
  such as ``x-auth-scheme`` or ``Authorization`` or read an answer;
* :class:`OriginGuard`, mounted as the server's custom app (``http.app``),
  answers 403 to any request whose ``Origin`` (or ``Sec-Fetch-Site:
  cross-site`` without one) is not listed, preflights included, before auth
  or any handler runs; and to a Studio request (``x-auth-scheme: langsmith``)
  that names no origin at all, unless LangSmith verifies Studio users
  (``LANGGRAPH_AUTH_TYPE=langsmith``): Studio is a page, and a page names its
  origin.

Clients that are not browsers (the SDK, curl) send no ``Origin`` and are
authenticated as before. ``MEDIATOR_ALLOWED_ORIGINS`` (comma-separated)
replaces the list, e.g. for a self-hosted LangSmith; keep ``http.cors`` in
step with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

STUDIO_ORIGINS = ("https://smith.langchain.com", "https://eu.smith.langchain.com")
"""The pages LangSmith Studio is served from."""
ALLOWED_ORIGINS_VARIABLE = "MEDIATOR_ALLOWED_ORIGINS"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def allowed_origins(environ: MutableMapping[str, str] | None = None) -> frozenset[str]:
    """The origins whose pages may call the server: ``MEDIATOR_ALLOWED_ORIGINS``, or Studio's."""
    raw = (environ if environ is not None else os.environ).get(ALLOWED_ORIGINS_VARIABLE, "")
    listed = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
    if "*" in listed:
        raise ValueError(
            f"{ALLOWED_ORIGINS_VARIABLE} may not contain '*': list the origins of the pages "
            "that may call this server (Studio's are the default)."
        )
    return frozenset(listed or STUDIO_ORIGINS)


def studio_verified_by_langsmith(environ: MutableMapping[str, str] | None = None) -> bool:
    """Whether LangSmith itself verifies Studio users (a deployment, not ``langgraph dev``)."""
    return (environ if environ is not None else os.environ).get("LANGGRAPH_AUTH_TYPE") == (
        "langsmith"
    )


def header(scope: Scope, name: bytes) -> str | None:
    """One request header's value (ASGI lists them as lower-case byte pairs)."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def refusal_reason(scope: Scope, origins: frozenset[str], studio_verified: bool) -> str | None:
    """Why a request is refused before it reaches the server, or ``None`` to let it through."""
    origin = header(scope, b"origin")
    if origin is not None and origin.rstrip("/") not in origins:
        return (
            f"Requests from the page {origin!r} are not accepted: only "
            f"{', '.join(sorted(origins))} may call this server ({ALLOWED_ORIGINS_VARIABLE})."
        )
    if origin is None and header(scope, b"sec-fetch-site") == "cross-site":
        return "A cross-site request must name its origin."
    studio = header(scope, b"x-auth-scheme") == "langsmith"
    if studio and origin is None and not studio_verified:
        return "A Studio request comes from Studio's page, which names its origin."
    return None


class OriginGuard:
    """ASGI middleware: 403 for a request from a page not in :func:`allowed_origins`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.origins = allowed_origins()
        self.studio_verified = studio_verified_by_langsmith()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the request, or hand it on unchanged."""
        if scope.get("type") in ("http", "websocket"):
            reason = refusal_reason(scope, self.origins, self.studio_verified)
            if reason is not None:
                await refuse(scope, send, reason)
                return
        await self.app(scope, receive, send)


async def refuse(scope: Scope, send: Send, reason: str) -> None:
    """Answer 403 (a WebSocket is closed) with no CORS header, so no page reads anything."""
    if scope.get("type") == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def nothing_to_start(app: Any) -> AsyncIterator[None]:
    """The guard's own lifespan: nothing. Explicit, because the server chains it after its own."""
    yield


@cache
def guarded_starlette_app() -> Any:
    """The custom app for langgraph-api (``langgraph dev``, langhost): the guard, no routes."""
    from starlette.applications import Starlette  # noqa: PLC0415 - a server-only dependency
    from starlette.middleware import Middleware  # noqa: PLC0415

    return Starlette(middleware=[Middleware(OriginGuard)], lifespan=nothing_to_start)


@cache
def guarded_fastapi_app() -> Any:
    """The custom app for Aegra, which takes FastAPI apps only: the guard, no routes."""
    from fastapi import FastAPI  # noqa: PLC0415 - Aegra's own dependency

    app = FastAPI()
    app.add_middleware(OriginGuard)
    return app


def __getattr__(name: str) -> Any:
    # Built on first use: the package itself does not depend on Starlette or FastAPI.
    if name == "app":
        return guarded_starlette_app()
    if name == "aegra_app":
        return guarded_fastapi_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
