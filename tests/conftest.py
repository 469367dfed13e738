"""Test-wide settings and fixtures.

LangSmith stays offline unless a key is configured; ``postgres_url`` is the
machine's real Postgres (trust auth, database ``test``); ``record`` keeps a
fault or load case's figures for RELIABILITY.md (``scripts/reliability.py``
sets ``RELIABILITY_FIGURES``; otherwise the records go nowhere).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

if not os.environ.get("LANGSMITH_API_KEY"):
    # The langsmith pytest plugin would otherwise try to reach the API.
    os.environ.setdefault("LANGSMITH_TEST_TRACKING", "false")
    os.environ.setdefault("LANGSMITH_TRACING", "false")

POSTGRES_URL = os.environ.get(
    "MEDIATOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> bool:
    """Whether the test database accepts a connection."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def postgres_url() -> str:
    """The test database; in CI its absence is a failure, elsewhere a skip."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Postgres at {POSTGRES_URL}")
        pytest.skip(f"no Postgres at {POSTGRES_URL}")
    return POSTGRES_URL


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``record(case, **figures)``: keep one case's figures for RELIABILITY.md."""

    def write(case: str, **figures: Any) -> None:
        path = os.environ.get("RELIABILITY_FIGURES")
        if not path:
            return
        row = {"case": case, "test": request.node.nodeid, "at": time.time(), **figures}
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, default=str) + "\n")

    return write
