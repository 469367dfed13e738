"""The fault and load suite: every test here is marked ``reliability``.

Each case records its figures with the ``record`` fixture (tests/conftest.py)
for RELIABILITY.md (``scripts/reliability.py``).
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``reliability`` (``-m reliability`` selects them)."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.reliability)
