"""Where threads and guidelines live: one ``--db`` value picks the backends.

* ``:memory:``: InMemorySaver and InMemoryStore (tests, throwaway sessions);
* ``postgresql://...``: AsyncPostgresSaver and AsyncPostgresStore sharing one
  connection pool of ``$MEDIATOR_PG_POOL_SIZE`` connections (deployments);
* anything else: a SQLite file holding both checkpoints and guidelines
  (the CLI's default, under the user's data directory).

``setup()`` runs every time; it is idempotent in both libraries.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

MEMORY = ":memory:"


def data_dir() -> Path:
    """Where the package keeps its files: ``$XDG_DATA_HOME/langgraph-mediator``."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "langgraph-mediator"


def default_db_path() -> Path:
    """``$MEDIATOR_DB`` if set, else ``$XDG_DATA_HOME/langgraph-mediator/mediator.sqlite``."""
    if os.environ.get("MEDIATOR_DB"):
        return Path(os.environ["MEDIATOR_DB"])
    return data_dir() / "mediator.sqlite"


def default_results_dir() -> Path:
    """``$MEDIATOR_RESULTS_DIR`` if set, else ``$XDG_DATA_HOME/langgraph-mediator/results``.

    Not the current directory: ``mediator eval`` and ``mediator bench`` find
    the same results from any folder.
    """
    if os.environ.get("MEDIATOR_RESULTS_DIR"):
        return Path(os.environ["MEDIATOR_RESULTS_DIR"])
    return data_dir() / "results"


def is_postgres_url(db: str) -> bool:
    """Whether ``db`` names a Postgres database rather than a SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Persistence:
    """A checkpointer and a store opened together, and what they point at."""

    checkpointer: BaseCheckpointSaver[str]
    store: BaseStore
    location: str


def postgres_pool_size() -> int:
    """Connections per process for Postgres: ``$MEDIATOR_PG_POOL_SIZE``, default 10."""
    size = int(os.environ.get("MEDIATOR_PG_POOL_SIZE", "10"))
    if size < 1:
        raise ValueError(f"MEDIATOR_PG_POOL_SIZE must be at least 1, got {size}")
    return size


async def _open_postgres(
    stack: AsyncExitStack, url: str
) -> tuple[BaseCheckpointSaver[str], BaseStore]:
    """Saver and store sharing one connection pool (closed with ``stack``).

    One connection would serialize every query of every concurrent thread
    behind its lock; a pool lets the checkpoint writes of parallel
    conversations overlap.
    """
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=1, max_size=postgres_pool_size(), open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )  # fmt: skip
    await pool.open(wait=True, timeout=10)
    stack.push_async_callback(pool.close)
    return AsyncPostgresSaver(conn=pool), AsyncPostgresStore(conn=pool)


@asynccontextmanager
async def open_persistence(db: str | os.PathLike[str] | None = None) -> AsyncIterator[Persistence]:
    """Open (and set up) the checkpointer and store for ``db``; close them on exit."""
    target = str(db) if db is not None else str(default_db_path())
    if target == MEMORY:
        yield Persistence(InMemorySaver(), InMemoryStore(), MEMORY)
        return
    async with AsyncExitStack() as stack:
        saver: BaseCheckpointSaver[str]
        store: BaseStore
        if is_postgres_url(target):
            saver, store = await _open_postgres(stack, target)
        else:
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
            from langgraph.store.sqlite.aio import AsyncSqliteStore

            Path(target).parent.mkdir(parents=True, exist_ok=True)
            saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(target))
            store = await stack.enter_async_context(AsyncSqliteStore.from_conn_string(target))
        await saver.setup()  # type: ignore[attr-defined]
        await store.setup()  # type: ignore[attr-defined]
        yield Persistence(saver, store, target)
