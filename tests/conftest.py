"""Test-wide settings: LangSmith stays offline unless a key is configured."""

from __future__ import annotations

import os

if not os.environ.get("LANGSMITH_API_KEY"):
    # The langsmith pytest plugin would otherwise try to reach the API.
    os.environ.setdefault("LANGSMITH_TEST_TRACKING", "false")
    os.environ.setdefault("LANGSMITH_TRACING", "false")
