"""The fault and load suite's figures: each case records what it measured.

``scripts/reliability.py`` runs this suite with ``RELIABILITY_FIGURES`` set to
a JSONL path and turns the records into RELIABILITY.md. Outside that script
the records go nowhere, so the suite runs the same in CI and on a laptop.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

Record = Callable[..., None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``reliability`` (``-m reliability`` selects them)."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Record:
    """``record(case, **figures)``: keep one case's figures for RELIABILITY.md."""

    def write(case: str, **figures: Any) -> None:
        path = os.environ.get("RELIABILITY_FIGURES")
        if not path:
            return
        row = {"case": case, "test": request.node.nodeid, "at": time.time(), **figures}
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, default=str) + "\n")

    return write
