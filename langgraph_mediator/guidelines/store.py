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

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NotRequired, TypedDict

from langgraph.store.base import BaseStore, Item

from langgraph_mediator.guidelines.validation import one_line, stored_rule_problem
from langgraph_mediator.state.refiner import MAX_GUIDELINES, Guideline

logger = logging.getLogger(__name__)

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
    """The texts of the user's current guidelines that may reach a prompt, in order.

    Empty without a store. Each rule is held to the validator again
    (:func:`~.validation.stored_rule_problem`) and at most
    :data:`~langgraph_mediator.state.refiner.MAX_GUIDELINES` are returned, so
    a rule stored by any path that skipped the Refiner's checks (an older
    version, an operator's direct ``put``) never reaches the Mediator's system
    prompt. Dropped rules are counted in a warning, never quoted.
    """
    if store is None:
        return []
    return prompt_ready_texts(store.get(guidelines_namespace(user_id), CURRENT_KEY), user_id)


async def aload_guidelines(store: BaseStore | None, user_id: str) -> list[str]:
    """:func:`load_guidelines`, awaiting the store."""
    if store is None:
        return []
    current = await store.aget(guidelines_namespace(user_id), CURRENT_KEY)
    return prompt_ready_texts(current, user_id)


def prompt_ready_texts(current: Item | None, user_id: str) -> list[str]:
    """The rule texts of a stored current version that pass the validator, one line each, capped."""
    if current is None:
        return []
    stored = current.value.get("guidelines", [])
    rules = stored if isinstance(stored, list) else [stored]
    texts = [rule.get("text") if isinstance(rule, Mapping) else None for rule in rules]
    # An empty rule was always skipped without a word: it says nothing, so it is not a threat.
    present = [t for t in texts if not (isinstance(t, str) and not t.strip())]
    valid = [one_line(t) for t in present if isinstance(t, str) and stored_rule_problem(t) is None]
    kept = valid[:MAX_GUIDELINES]
    if len(kept) < len(present):
        logger.warning(
            "dropped %d of the %d stored guidelines of user %r: they fail the guideline checks "
            "or exceed the cap of %d",
            len(present) - len(kept),
            len(present),
            user_id,
            MAX_GUIDELINES,
        )
    return kept


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
