"""``langhost`` with one fix this project needs: the authenticated user stored as JSON.

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
"""

from __future__ import annotations

import json
import sys
from typing import Any

import langgraph_runtime_pg.database as database
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

if __name__ == "__main__":
    sys.argv[0] = "langhost"
    sys.exit(cli())
