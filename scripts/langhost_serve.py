"""``langhost`` with two fixes this project needs: the user stored as JSON, and a lifespan.

Run with the server virtualenv's Python (``scripts/serve_pg.sh`` does), with
langhost's own arguments: ``.venv-serve-pg/bin/python scripts/langhost_serve.py serve ...``.

langgraph-api puts the authenticated user object (``ProxyUser``) into each run's
``configurable``; langgraph-runtime-pg 0.11.1.post1 writes the run row with
SQLAlchemy's default ``json.dumps``, which cannot encode it, so with custom auth
on (``langgraph.json`` names ``langgraph_mediator.auth.server:auth``) every run
fails with HTTP 500 ("Object of type ProxyUser is not JSON serializable"). The
in-memory runtime of ``langgraph dev`` never serializes it. Here the engine gets
a serializer that writes such objects as the mapping they describe (identity,
permissions, display name), which is what the graphs read back.

With a custom app (``http.app`` in ``langgraph.json``: the origin guard),
langgraph-api 0.11.1 puts ``EnsureStoreAccessible`` in the app's middleware,
which asks for the Store on every scope, the lifespan's included; on Postgres
the Store exists only once the lifespan has opened its pool, so the lifespan
fails and the server answers nothing ("Store requires setup_store()"). Here
the lifespan scope passes that middleware untouched (later releases of
langgraph-api, as ``langgraph dev`` runs them, start the Store first).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import langgraph_runtime_pg.database as database
import uvicorn
from langhost.cli import cli


def _as_mapping(value: Any) -> Any:
    for method in ("model_dump", "dict"):
        dump = getattr(value, method, None)
        if callable(dump):
            return dump()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_serializer(value: Any) -> str:
    """``json.dumps`` that writes objects with ``model_dump``/``dict`` as their mapping."""
    return json.dumps(value, default=_as_mapping)


_create_async_engine = database.create_async_engine


def _create_engine(*args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("json_serializer", json_serializer)
    return _create_async_engine(*args, **kwargs)


database.create_async_engine = _create_engine  # type: ignore[assignment]

_uvicorn_run = uvicorn.run


def _run_with_store_after_lifespan(*args: Any, **kwargs: Any) -> Any:
    """``uvicorn.run``, once langgraph-api's middleware lets the lifespan start the Store.

    Patched here, when ``run_server`` has put the config (auth, http) in the environment:
    importing langgraph-api's middleware earlier would read its config before that, and
    the server would start with no auth at all.
    """
    import langgraph_api.middleware.ensure_store as ensure_store  # noqa: PLC0415

    original = ensure_store.EnsureStoreAccessible.__call__

    async def store_after_lifespan(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        await original(self, scope, receive, send)

    ensure_store.EnsureStoreAccessible.__call__ = store_after_lifespan  # type: ignore[method-assign]
    return _uvicorn_run(*args, **kwargs)


uvicorn.run = _run_with_store_after_lifespan

if __name__ == "__main__":
    sys.argv[0] = "langhost"
    sys.exit(cli())
