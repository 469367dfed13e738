"""The Mediator's structured reading of one user turn.

One model call produces a :class:`MediatorReading`; ``detect_intent``,
``clarify`` and ``classify_feedback`` all work from it, which keeps a common
turn at two model calls (this one and the Assistant's).

A common turn's reading is a few dozen tokens (the model's own tokens are most
of the Mediator's wait): the lists and the question are left out when empty,
and ``task_type`` and ``goal`` are empty when unchanged. Those two stay
required fields: with them optional, the embedded model's grammar-constrained
replies ran into the token cap on 5 of 20 turns (1.35 calls per turn),
against none of 20 with them required.

Every string and list is bounded: an unbounded field lets a small model loop
until ``max_tokens`` (measured: 90 s for one call), bounded it parses in under a
second.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

FeedbackKind = Literal["new_task", "new_information", "correction", "confirmation", "continuation"]
"""How the new message relates to what the thread holds.

* ``new_task``: a different task starts; the ledger starts afresh.
* ``new_information``: adds requirements to the current task.
* ``correction``: contradicts or withdraws earlier requirements (or the last
  answer's assumptions); the ledger records which, and why.
* ``confirmation``: accepts what is there; nothing changes.
* ``continuation``: says more is coming and asks nothing yet ("wait, there's
  more"); nothing changes and the Assistant is not asked: the Mediator only
  acknowledges. A user's guidelines may say that their "ok" means this.
"""

ShortText = Annotated[str, Field(max_length=300)]
Note = Annotated[str, Field(max_length=200)]


class RequirementChange(BaseModel):
    """A correction's effect on one earlier requirement."""

    requirement_id: str = Field(
        max_length=8, description="Id of the earlier requirement it changes, e.g. R2."
    )
    action: Literal["supersede", "refine", "retract"] = Field(
        description="supersede: replaced by a new value; refine: narrowed by a more specific "
        "requirement; retract: withdrawn with no replacement."
    )
    replacement: str = Field(
        default="",
        max_length=300,
        description="The requirement that replaces it (supersede) or narrows it (refine).",
    )
    reason: str = Field(default="", max_length=200, description="Why, in the user's terms.")


class MediatorReading(BaseModel):
    """What the user means by the new message, read against the thread."""

    task_type: str = Field(
        max_length=40,
        description="Kind of task: math, code, database, actions, data2text, summary or general. "
        "Empty when it is unchanged.",
    )
    goal: str = Field(
        max_length=300, description="The task's goal in one sentence. Empty when it is unchanged."
    )
    feedback: FeedbackKind = Field(
        description="new_task, new_information, correction, confirmation or continuation."
    )
    new_requirements: list[ShortText] = Field(
        default_factory=list,
        max_length=8,
        description="Requirements this message adds: one fact each, one explicit sentence.",
    )
    changes: list[RequirementChange] = Field(
        default_factory=list,
        max_length=8,
        description="For a correction: the earlier requirements it supersedes or retracts.",
    )
    missing_information: list[Note] = Field(
        default_factory=list,
        max_length=4,
        description="Details that block the task: it cannot be done without them, nobody has "
        "given them and the assistant does not have them.",
    )
    assumable_details: list[Note] = Field(
        default_factory=list,
        max_length=4,
        description="Details nobody has given that the assistant can reasonably assume.",
    )
    material: list[Annotated[str, Field(max_length=4)]] = Field(
        default_factory=list,
        max_length=12,
        description="Labels (B1, B2...) of the message's blocks to hand over verbatim: a table, "
        "code, a document, data.",
    )
    clarifying_question: str = Field(
        default="",
        max_length=300,
        description="One targeted question that would obtain the most important missing detail.",
    )

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> MediatorReading:
        """Rebuild a reading stored in the thread state by ``model_dump``.

        Not re-validated: it was validated when the model produced it, and a
        pass-through fallback may hold a message longer than the model's bounds.
        """
        changes = [RequirementChange.model_construct(**c) for c in data.get("changes", [])]
        return cls.model_construct(**{**data, "changes": changes})
