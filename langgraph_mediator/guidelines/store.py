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


def current_version(store: BaseStore, user_id: str) -> GuidelineVersion | None:
    """The set in force, or ``None`` if the user has none yet."""
    return _version(store.get(guidelines_namespace(user_id), CURRENT_KEY))


async def acurrent_version(store: BaseStore, user_id: str) -> GuidelineVersion | None:
    """:func:`current_version`, awaiting the store."""
    return _version(await store.aget(guidelines_namespace(user_id), CURRENT_KEY))


def _version(item: Item | None) -> GuidelineVersion | None:
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


def save_guidelines(
    store: BaseStore,
    user_id: str,
    guidelines: list[Guideline],
    *,
    source: str,
    retired: list[RetiredGuideline] | None = None,
) -> GuidelineVersion:
    """Write ``guidelines`` as the user's next version and make it current."""
    version = next_version(current_version(store, user_id), guidelines, source, retired)
    store.put(versions_namespace(user_id), f"{version['version']:06d}", dict(version))
    store.put(guidelines_namespace(user_id), CURRENT_KEY, dict(version))
    return version


async def asave_guidelines(
    store: BaseStore,
    user_id: str,
    guidelines: list[Guideline],
    *,
    source: str,
    retired: list[RetiredGuideline] | None = None,
) -> GuidelineVersion:
    """:func:`save_guidelines`, awaiting the store."""
    current = await acurrent_version(store, user_id)
    version = next_version(current, guidelines, source, retired)
    await store.aput(versions_namespace(user_id), f"{version['version']:06d}", dict(version))
    await store.aput(guidelines_namespace(user_id), CURRENT_KEY, dict(version))
    return version


def next_version(
    current: GuidelineVersion | None,
    guidelines: list[Guideline],
    source: str,
    retired: list[RetiredGuideline] | None,
) -> GuidelineVersion:
    """The version that follows ``current``, holding ``guidelines``."""
    version = GuidelineVersion(
        version=(current["version"] + 1) if current else 1,
        guidelines=guidelines,
        created_at=now_iso(),
        source=source,
    )
    if retired:
        version["retired"] = retired
    return version


def put_guidelines(
    store: BaseStore, user_id: str, texts: list[str], *, source: str = "manual"
) -> GuidelineVersion:
    """Replace the user's guidelines with ``texts`` (numbered G1, G2, ...), as a new version."""
    return save_guidelines(store, user_id, numbered(texts, source), source=source)


async def aput_guidelines(
    store: BaseStore, user_id: str, texts: list[str], *, source: str = "manual"
) -> GuidelineVersion:
    """:func:`put_guidelines`, awaiting the store."""
    return await asave_guidelines(store, user_id, numbered(texts, source), source=source)


def numbered(texts: list[str], source: str) -> list[Guideline]:
    """``texts`` as guidelines G1, G2, ..., stamped now, from ``source``."""
    stamp = now_iso()
    return [
        Guideline(id=f"G{i}", text=t, provenance=[source], created_at=stamp, updated_at=stamp)
        for i, t in enumerate(texts, 1)
    ]


PAGE = 100


def list_versions(store: BaseStore, user_id: str) -> list[GuidelineVersion]:
    """Every version of the user's guidelines, oldest first."""
    found: list[Item] = []
    while page := store.search(versions_namespace(user_id), limit=PAGE, offset=len(found)):
        found.extend(page)
        if len(page) < PAGE:
            break
    return _oldest_first(found)


async def alist_versions(store: BaseStore, user_id: str) -> list[GuidelineVersion]:
    """:func:`list_versions`, awaiting the store."""
    found: list[Item] = []
    while page := await store.asearch(versions_namespace(user_id), limit=PAGE, offset=len(found)):
        found.extend(page)
        if len(page) < PAGE:
            break
    return _oldest_first(found)


def _oldest_first(items: list[Item]) -> list[GuidelineVersion]:
    versions = [GuidelineVersion(**item.value) for item in items]  # type: ignore[typeddict-item]
    return sorted(versions, key=lambda v: v["version"])


def rollback(store: BaseStore, user_id: str, to_version: int | None = None) -> GuidelineVersion:
    """Make an earlier version current again (default: the one before the current).

    Raises:
        LookupError: the user has no such version.

    """
    guidelines, source = rollback_target(
        list_versions(store, user_id), current_version(store, user_id), user_id, to_version
    )
    return save_guidelines(store, user_id, guidelines, source=source)


async def arollback(
    store: BaseStore, user_id: str, to_version: int | None = None
) -> GuidelineVersion:
    """:func:`rollback`, awaiting the store."""
    versions = await alist_versions(store, user_id)
    current = await acurrent_version(store, user_id)
    guidelines, source = rollback_target(versions, current, user_id, to_version)
    return await asave_guidelines(store, user_id, guidelines, source=source)


def rollback_target(
    versions: list[GuidelineVersion],
    current: GuidelineVersion | None,
    user_id: str,
    to_version: int | None,
) -> tuple[list[Guideline], str]:
    """The guidelines a rollback makes current again, and the new version's source.

    Raises:
        LookupError: the user has no such version.

    """
    by_number = {v["version"]: v for v in versions}
    if to_version is None:
        to_version = (current["version"] - 1) if current else 0
    if to_version == 0 and current is not None:
        return [], "rollback to v0 (empty)"
    if to_version not in by_number:
        known = ", ".join(str(v) for v in sorted(by_number)) or "none"
        raise LookupError(f"user {user_id!r} has no guideline version {to_version} (has: {known})")
    return by_number[to_version]["guidelines"], f"rollback to v{to_version}"
