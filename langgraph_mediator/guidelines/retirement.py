"""Guideline hygiene: a rule that does not help its user on held-out conversations is retired.

The Refiner only adds and merges rules, so without this a user's set only grows.
Re-evaluation decides instead: each rule is tried on conversations the Refiner
never saw, once with the user's whole set and once with the set less that rule
(for a one-rule set, with no guidelines at all). The two runs are paired by
conversation (same task, same draw), and a rule whose mean gain is not above
``min_gain`` is retired. Retiring writes a new version without the rule that
records what was taken out and why, so it can be read in ``guidelines history``
and undone with a rollback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from langgraph.store.base import BaseStore

from langgraph_mediator.guidelines.store import (
    GuidelineVersion,
    RetiredGuideline,
    acurrent_version,
    asave_guidelines,
)

ConversationKey = tuple[str, int]
"""``(task_id, run)``: what pairs a conversation with the rule to one without it."""


@dataclass(frozen=True)
class RuleTrial:
    """One rule's held-out evidence: scores (0-1) with the whole set and with the set less it."""

    guideline_id: str
    text: str
    with_rule: Mapping[ConversationKey, float]
    without_rule: Mapping[ConversationKey, float]

    @property
    def paired(self) -> list[ConversationKey]:
        """The conversations played both ways."""
        return sorted(set(self.with_rule) & set(self.without_rule))

    @property
    def gain(self) -> float | None:
        """Mean score with the rule minus without it, over the paired conversations."""
        keys = self.paired
        if not keys:
            return None
        return sum(self.with_rule[k] - self.without_rule[k] for k in keys) / len(keys)


def retirement_reason(trial: RuleTrial, min_gain: float = 0.0) -> str | None:
    """Why ``trial``'s rule should go, or ``None`` to keep it (including when untried)."""
    gain = trial.gain
    if gain is None or gain > min_gain:
        return None
    keys = trial.paired
    with_mean = sum(trial.with_rule[k] for k in keys) / len(keys)
    without_mean = sum(trial.without_rule[k] for k in keys) / len(keys)
    return (
        f"no held-out gain: mean score {with_mean:.2f} with it, {without_mean:.2f} without it "
        f"(gain {gain:+.2f}, needed more than {min_gain:+.2f}) over {len(keys)} "
        "paired conversation(s)"
    )


async def aretire_guidelines(
    store: BaseStore, user_id: str, reasons: Mapping[str, str], *, source: str = "re-evaluation"
) -> GuidelineVersion | None:
    """Write the user's next version without the rules named in ``reasons`` (id -> why).

    Returns ``None`` (nothing written) when ``reasons`` is empty.

    Raises:
        LookupError: a named id is not in the user's current set.

    """
    if not reasons:
        return None
    current = await acurrent_version(store, user_id)
    in_force = {g["id"]: g for g in current["guidelines"]} if current else {}
    unknown = sorted(set(reasons) - set(in_force))
    if unknown:
        known = ", ".join(in_force) or "none"
        raise LookupError(
            f"user {user_id!r} has no current guideline {', '.join(unknown)} (has: {known})"
        )
    assert current is not None  # in_force is empty otherwise, and every id unknown
    retired = [
        RetiredGuideline(id=gid, text=in_force[gid]["text"], reason=reasons[gid])
        for gid in in_force
        if gid in reasons
    ]
    kept = [g for g in current["guidelines"] if g["id"] not in reasons]
    named = ", ".join(r["id"] for r in retired)
    return await asave_guidelines(
        store, user_id, kept, source=f"{source}: retired {named}", retired=retired
    )
