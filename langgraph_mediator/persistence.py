"""Where threads and guidelines live: one ``--db`` value picks the backends.

* ``:memory:``: InMemorySaver and InMemoryStore (tests, throwaway sessions);
* ``postgresql://...``: AsyncPostgresSaver and AsyncPostgresStore (deployments);
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

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

MEMORY = ":memory:"


def default_db_path() -> Path:
    """``$MEDIATOR_DB`` if set, else ``$XDG_DATA_HOME/langgraph-mediator/mediator.sqlite``."""
    if os.environ.get("MEDIATOR_DB"):
        return Path(os.environ["MEDIATOR_DB"])
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "langgraph-mediator" / "mediator.sqlite"


def is_postgres_url(db: str) -> bool:
    """Whether ``db`` names a Postgres database rather than a SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Persistence:
    """A checkpointer and a store opened together, and what they point at."""

    checkpointer: BaseCheckpointSaver[str]
    store: BaseStore
    location: str


@asynccontextmanager
async def open_persistence(db: str | os.PathLike[str] | None = None) -> AsyncIterator[Persistence]:
    """Open (and set up) the checkpointer and store for ``db``; close them on exit."""
    target = str(db) if db is not None else str(default_db_path())
    if target == MEMORY:
        yield Persistence(InMemorySaver(), InMemoryStore(), MEMORY)
        return
    async with AsyncExitStack() as stack:
        if is_postgres_url(target):
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            from langgraph.store.postgres.aio import AsyncPostgresStore

            saver: BaseCheckpointSaver[str] = await stack.enter_async_context(
                AsyncPostgresSaver.from_conn_string(target)
            )
            store: BaseStore = await stack.enter_async_context(
                AsyncPostgresStore.from_conn_string(target)
            )
        else:
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
            from langgraph.store.sqlite.aio import AsyncSqliteStore

            Path(target).parent.mkdir(parents=True, exist_ok=True)
            saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(target))
            store = await stack.enter_async_context(AsyncSqliteStore.from_conn_string(target))
        await saver.setup()  # type: ignore[attr-defined]
        await store.setup()  # type: ignore[attr-defined]
        yield Persistence(saver, store, target)
