"""A persistent cache of model responses, keyed by request and run, so a rerun costs nothing.

It is a LangChain :class:`~langchain_core.caches.BaseCache`: pass it as a chat
model's ``cache=``. The key is the exact request (messages, model, parameters,
tools) plus the evaluation's run index, set per conversation with
:func:`cache_scope`: the N runs of a task at temperature > 0 stay N different
samples, and each of them is replayed on a rerun. The embedded server's base
URL is keyed as ``embedded``: it listens on a free port chosen per process.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads

from langgraph_mediator.models.local_server import embedded_base_url

_scope: ContextVar[str] = ContextVar("mediator_eval_cache_scope", default="")


@contextmanager
def cache_scope(scope: str) -> Iterator[None]:
    """Mix ``scope`` (e.g. the run index) into every cache key made inside the block."""
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


class ResponseCache(BaseCache):
    """Model responses in one SQLite file; safe to share between threads of one process."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the cache at ``path``."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT)")
        self._db.commit()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        # The embedded server's port changes with every process; its model does not.
        embedded = embedded_base_url()
        if embedded:
            llm_string = llm_string.replace(embedded, "embedded")
        raw = "\x1f".join((_scope.get(), llm_string, prompt))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """The cached generations of this request in this scope, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM responses WHERE key = ?", (self._key(prompt, llm_string),)
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        value: RETURN_VAL_TYPE = loads(row[0])
        return value

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store the generations of this request in this scope."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?)",
                (self._key(prompt, llm_string), dumps(list(return_val))),
            )
            self._db.commit()

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """As :meth:`lookup`, on the caller's context (so the scope is seen)."""
        return self.lookup(prompt, llm_string)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """As :meth:`update`, on the caller's context."""
        self.update(prompt, llm_string, return_val)

    def clear(self, **kwargs: Any) -> None:
        """Forget every response."""
        with self._lock:
            self._db.execute("DELETE FROM responses")
            self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()
