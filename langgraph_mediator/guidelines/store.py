"""Per-user guidelines in a LangGraph Store: the set in force, and every version of it.

* ``("guidelines", user_id)`` / ``"current"``: ``{"version", "guidelines": [...]}``,
  read by the Mediator at the start of every turn;
* ``("guidelines", user_id, "versions")`` / ``"000007"``: each version ever
  written, with its source (a refine run or a rollback), so a bad batch can be
  listed and rolled back. History is append-only: a rollback writes a new
  version equal to the old one.

A user's guidelines are only ever read under their own namespace, so one user's
rules never reach another user's Mediator. Works with any BaseStore
(InMemoryStore, AsyncSqliteStore, AsyncPostgresStore).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NotRequired, TypedDict

from langgraph.store.base import BaseStore, Item

from langgraph_mediator.state.refiner import Guideline

GUIDELINES_PREFIX = "guidelines"
CURRENT_KEY = "current"
VERSIONS = "versions"


class RetiredGuideline(TypedDict):
    """A rule taken out of a user's set, and why (see :mod:`.retirement`)."""

    id: str
    text: str
    reason: str


class GuidelineVersion(TypedDict):
    """One stored version of a user's guideline set."""

    version: int
    guidelines: list[Guideline]
    created_at: str
    source: str
    retired: NotRequired[list[RetiredGuideline]]
    """The rules this version took out of the one before it, with the reasons."""


def _label(user_id: str) -> str:
    # Store namespace labels may not contain periods; keep the mapping reversible.
    return user_id.replace("%", "%25").replace(".", "%2E")


def guidelines_namespace(user_id: str) -> tuple[str, str]:
    """The Store namespace of one user's current guidelines."""
    if not user_id or not user_id.strip():
        raise ValueError("user_id must not be empty")
    return (GUIDELINES_PREFIX, _label(user_id))


def versions_namespace(user_id: str) -> tuple[str, str, str]:
    """The Store namespace holding every version of one user's guidelines."""
    return (*guidelines_namespace(user_id), VERSIONS)


def now_iso() -> str:
    """The current UTC time, ISO 8601, for provenance timestamps."""
    return datetime.now(UTC).isoformat(timespec="seconds")


async def current_version(store: BaseStore, user_id: str) -> GuidelineVersion | None:
    """The set in force, or ``None`` if the user has none yet."""
    item = await store.aget(guidelines_namespace(user_id), CURRENT_KEY)
    return GuidelineVersion(**item.value) if item else None  # type: ignore[typeddict-item]


def load_guidelines(store: BaseStore | None, user_id: str) -> list[str]:
    """The texts of the user's current guidelines, in order; empty without a store."""
    if store is None:
        return []
    return _texts(store.get(guidelines_namespace(user_id), CURRENT_KEY))


async def aload_guidelines(store: BaseStore | None, user_id: str) -> list[str]:
    """:func:`load_guidelines`, awaiting the store."""
    if store is None:
        return []
    return _texts(await store.aget(guidelines_namespace(user_id), CURRENT_KEY))


def _texts(current: Item | None) -> list[str]:
    """The non-empty rule texts of a stored current version."""
    if current is None:
        return []
    guidelines = current.value.get("guidelines", [])
    return [g["text"] for g in guidelines if g["text"].strip()]


async def save_guidelines(
    store: BaseStore,
    user_id: str,
    guidelines: list[Guideline],
    *,
    source: str,
    retired: list[RetiredGuideline] | None = None,
) -> GuidelineVersion:
    """Write ``guidelines`` as the user's next version and make it current."""
    current = await current_version(store, user_id)
    version = GuidelineVersion(
        version=(current["version"] + 1) if current else 1,
        guidelines=guidelines,
        created_at=now_iso(),
        source=source,
    )
    if retired:
        version["retired"] = retired
    await store.aput(versions_namespace(user_id), f"{version['version']:06d}", dict(version))
    await store.aput(guidelines_namespace(user_id), CURRENT_KEY, dict(version))
    return version


async def put_guidelines(
    store: BaseStore, user_id: str, texts: list[str], *, source: str = "manual"
) -> GuidelineVersion:
    """Replace the user's guidelines with ``texts`` (numbered G1, G2, ...), as a new version."""
    stamp = now_iso()
    entries = [
        Guideline(id=f"G{i}", text=t, provenance=[source], created_at=stamp, updated_at=stamp)
        for i, t in enumerate(texts, 1)
    ]
    return await save_guidelines(store, user_id, entries, source=source)


async def list_versions(store: BaseStore, user_id: str) -> list[GuidelineVersion]:
    """Every version of the user's guidelines, oldest first."""
    found: list[GuidelineVersion] = []
    offset = 0
    while True:
        page = await store.asearch(versions_namespace(user_id), limit=100, offset=offset)
        found.extend(GuidelineVersion(**item.value) for item in page)  # type: ignore[typeddict-item]
        if len(page) < 100:
            break
        offset += 100
    return sorted(found, key=lambda v: v["version"])


async def rollback(
    store: BaseStore, user_id: str, to_version: int | None = None
) -> GuidelineVersion:
    """Make an earlier version current again (default: the one before the current).

    Raises:
        LookupError: the user has no such version.

    """
    versions = {v["version"]: v for v in await list_versions(store, user_id)}
    current = await current_version(store, user_id)
    if to_version is None:
        to_version = (current["version"] - 1) if current else 0
    if to_version == 0 and current is not None:
        return await save_guidelines(store, user_id, [], source="rollback to v0 (empty)")
    if to_version not in versions:
        known = ", ".join(str(v) for v in sorted(versions)) or "none"
        raise LookupError(f"user {user_id!r} has no guideline version {to_version} (has: {known})")
    target = versions[to_version]
    return await save_guidelines(
        store, user_id, target["guidelines"], source=f"rollback to v{to_version}"
    )
