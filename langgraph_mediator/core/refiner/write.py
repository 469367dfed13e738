"""The write checks: the merged set checked once more, and rebuilt, before it is stored.

The validator already ran in propose and merge, but a run's state can reach
the write without them: a ``Command(goto="write_guidelines")`` or a state
written ``as_node="merge_guidelines"``. So every rule is checked again here,
against the same validator, the run's own trajectory facts and the cap on the
set's size, and only its text and provenance are taken from the state: ids and
timestamps are rebuilt, and provenance may only name this run's pairs or the
provenance of the rules in force.

The set is not written (no new version) when it equals the one in force, so
re-running the Refiner on the same evidence does not pile up identical versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from langgraph_mediator.errors import GuidelineRejectedError
from langgraph_mediator.guidelines import (
    GuidelineVersion,
    now_iso,
    one_line,
    stored_rule_problem,
    trajectory_facts,
)
from langgraph_mediator.state.refiner import (
    MAX_GUIDELINES,
    Guideline,
    RefinerState,
    TrajectoryPair,
)
from langgraph_mediator.text import comparison_key


@dataclass(frozen=True)
class InForce:
    """What the rules in force vouch for: their texts, creation times and provenance."""

    created: dict[str, str]
    """Comparison key of each rule in force -> when it was created."""
    provenance: frozenset[str]

    @classmethod
    def of(cls, current: GuidelineVersion | None) -> InForce:
        """The set in force of ``current`` (none for a user without guidelines)."""
        stored = current["guidelines"] if current else []
        created = {comparison_key(g["text"]): g["created_at"] for g in stored}
        return cls(created, frozenset(p for g in stored for p in g["provenance"]))


def checked_write(
    state: RefinerState, current: GuidelineVersion | None, user_id: str
) -> tuple[list[Guideline] | None, str]:
    """The set to store, rebuilt from the checked state, and the version's source.

    The set is ``None`` when it equals the set in force.

    Raises:
        GuidelineRejectedError: a rule, or the set, fails the checks.

    """
    pair_ids = _run_pair_ids(state, user_id)
    in_force = InForce.of(current)
    rules: object = state.get("guidelines", [])
    checked, problems = _checked_rules(rules, in_force, pair_ids, state["pairs"])
    # Refuse the whole set rather than drop what fails: a state that skipped the merge's
    # checks is an attack or a bug, and storing the rest would still store whatever else
    # the attacker put there (a rule's neighbours are no more trustworthy than it).
    if problems:
        raise refusal(user_id, problems)
    new = _rebuilt(checked, in_force)
    in_force_texts = [g["text"] for g in current["guidelines"]] if current else []
    unchanged = [g["text"] for g in new] == in_force_texts
    return None if unchanged else new, "refine: " + ", ".join(pair_ids)


def _run_pair_ids(state: RefinerState, user_id: str) -> list[str]:
    """The ids of the run's validated pairs: what a new rule's provenance may name."""
    pairs: object = state.get("pairs")
    if not isinstance(pairs, list) or not pairs:
        raise refusal(user_id, ["the run has no trajectory pairs"])
    ids: set[str] = set()
    for index, raw in enumerate(pairs):
        try:
            ids.add(TrajectoryPair.model_validate(raw).id)
        except ValidationError as exc:
            raise refusal(user_id, [f"pairs[{index}] is not a valid trajectory pair"]) from exc
    return sorted(ids)


def refusal(user_id: str, problems: list[str]) -> GuidelineRejectedError:
    """The error that refuses a write: whose set, and every reason (never a rule's text)."""
    return GuidelineRejectedError(
        f"refused to store the guidelines of user {user_id!r}, nothing was written: "
        + "; ".join(problems)
    )


def _checked_rules(
    rules: object, in_force: InForce, pair_ids: list[str], pairs: list[dict[str, Any]]
) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Each rule's ``(text, provenance)`` once it passes, and what fails, by rule number."""
    if not isinstance(rules, list):
        return [], ["the guideline set is not a list"]
    if len(rules) > MAX_GUIDELINES:
        # Refused before any rule is read, so an oversized set costs nothing to refuse.
        return [], [f"{len(rules)} rules, more than the {MAX_GUIDELINES} a user may have"]
    facts = trajectory_facts(pairs)
    vouched = in_force.provenance | set(pair_ids)
    checked: list[tuple[str, list[str]]] = []
    problems: list[str] = []
    for number, rule in enumerate(rules, 1):
        outcome = _checked_rule(rule, in_force, vouched, facts)
        if isinstance(outcome, str):
            problems.append(f"rule {number}: {outcome}")
        else:
            checked.append(outcome)
    return checked, problems


def _checked_rule(
    rule: object, in_force: InForce, vouched: frozenset[str], facts: frozenset[tuple[str, str]]
) -> tuple[str, list[str]] | str:
    """The rule's text and provenance if both pass, else why not."""
    if not isinstance(rule, Mapping):
        return "is not a guideline"
    text, provenance = rule.get("text"), rule.get("provenance", [])
    if not isinstance(text, str):
        return "has no text"
    # As in the merge: a rule in force kept word for word is not held to this run's facts.
    kept = comparison_key(text) in in_force.created
    problem = stored_rule_problem(text, frozenset() if kept else facts)
    if problem:
        return problem
    if not isinstance(provenance, list) or not all(
        isinstance(p, str) and p in vouched for p in provenance
    ):
        return "has provenance that names neither this run's pairs nor a rule in force"
    return text, sorted(set(provenance))


def _rebuilt(checked: list[tuple[str, list[str]]], in_force: InForce) -> list[Guideline]:
    """The checked rules as guidelines, numbered G1, G2, ...; a kept rule keeps its created_at."""
    stamp = now_iso()
    return [
        Guideline(
            id=f"G{number}",
            text=one_line(text),
            provenance=provenance,
            created_at=in_force.created.get(comparison_key(text), stamp),
            updated_at=stamp,
        )
        for number, (text, provenance) in enumerate(checked, 1)
    ]
