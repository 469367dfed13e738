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
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langgraph_mediator.errors import DatabaseError
from langgraph_mediator.text import redact_secrets

MEMORY = ":memory:"
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SQLITE_HEADER = b"SQLite format 3\x00"
POSTGRES_CONNECT_SECONDS = 5


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


def sqlite_problem(path: Path, *, must_exist: bool = False) -> str | None:
    """Why the SQLite file ``path`` cannot be used (``None`` when it can); creates nothing.

    A new file is created only in a folder that exists: a mistyped folder is
    an error, not a tree of new folders. ``must_exist`` is for resuming a
    thread: a database that is not there holds nothing to resume.
    """
    if path.is_dir():
        return f"{path} is a folder; name a SQLite file in it, e.g. {path / 'mediator.sqlite'}"
    if not path.exists():
        if must_exist:
            return f"there is no database at {path}, so there is nothing to resume: check the path"
        if not path.parent.is_dir():
            return f"the folder {path.parent} does not exist: create it, or choose another path"
        return None
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header and header != _SQLITE_HEADER:
        return f"{path} is not a SQLite database"
    return None


def database_problem(db: str, *, must_exist: bool = False) -> str | None:
    """Why ``db`` cannot name a database (``None`` when it can), without connecting.

    ``:memory:``, a ``postgresql://`` URL or a SQLite file path; any other
    ``scheme://`` is refused rather than taken for a file name.
    """
    if db == MEMORY or is_postgres_url(db):
        return None
    if _URL_SCHEME.match(db):
        scheme = db.split("://", 1)[0]
        return f"{scheme}:// is not supported: use a SQLite file path or a postgresql:// URL"
    if Path(db).resolve() == default_db_path().resolve() and not must_exist:
        return None  # the package's own default: its folder is created on first use
    return sqlite_problem(Path(db), must_exist=must_exist)


async def check_database(
    db: str | os.PathLike[str] | None = None, *, must_exist: bool = False
) -> None:
    """Fail fast, with one clear line, if ``db`` cannot be used; nothing is created.

    Postgres gets one connection attempt of ``POSTGRES_CONNECT_SECONDS``
    (a server that is down is found before anything else starts).

    Raises:
        DatabaseError: the message names the value and what is wrong with it.

    """
    target = str(db) if db is not None else str(default_db_path())
    problem = database_problem(target, must_exist=must_exist)
    if problem is None and is_postgres_url(target):
        problem = await _postgres_problem(target)
    if problem is not None:
        raise DatabaseError(f"Cannot use the database {redact_secrets(target)}: {problem}")


async def _postgres_problem(url: str) -> str | None:
    import psycopg

    try:
        connection = await psycopg.AsyncConnection.connect(
            url, connect_timeout=POSTGRES_CONNECT_SECONDS
        )
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"Postgres does not answer ({redact_secrets(reason)[:200]})"
    await connection.close()
    return None


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
        url,
        min_size=1,
        max_size=postgres_pool_size(),
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open(wait=True, timeout=10)
    stack.push_async_callback(pool.close)
    return AsyncPostgresSaver(conn=pool), AsyncPostgresStore(conn=pool)


@asynccontextmanager
async def open_persistence(db: str | os.PathLike[str] | None = None) -> AsyncIterator[Persistence]:
    """Open (and set up) the checkpointer and store for ``db``; close them on exit.

    Raises:
        DatabaseError: ``db`` names no usable database (see :func:`database_problem`).

    """
    target = str(db) if db is not None else str(default_db_path())
    if problem := database_problem(target):
        raise DatabaseError(f"Cannot use the database {redact_secrets(target)}: {problem}")
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

            if Path(target).resolve() == default_db_path().resolve():
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(target))
            store = await stack.enter_async_context(AsyncSqliteStore.from_conn_string(target))
        await saver.setup()  # type: ignore[attr-defined]
        await store.setup()  # type: ignore[attr-defined]
        yield Persistence(saver, store, target)
