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
second. The bounds fit a real message (16 requirements of 500 characters; a
longer block is material, passed on verbatim by label), and unknown fields or a
half-specified change are refused, so the retry fires instead of a silent loss.

Beyond the one task the sharded protocol knows, a reading places the message in
an open thread: ``standing`` (what holds for the whole thread), ``earlier_task``
(a task it goes back to or builds on) and ``answers`` (the Assistant's earlier
answers it points at, by label).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FeedbackKind = Literal["new_task", "new_information", "correction", "confirmation", "continuation"]
UNCHANGING: tuple[FeedbackKind, ...] = ("confirmation", "continuation")
"""Feedback kinds that leave the ledger as it is (and so keep none of the message's words)."""
"""How the new message relates to what the thread holds.

* ``new_task``: a different request starts; the last task leaves the live
  instruction (it stays in the record, and a later message can go back to it
  or build on it), while what holds for the whole thread stays in force.
* ``new_information``: adds requirements to the current task.
* ``correction``: contradicts or withdraws earlier requirements (or the last
  answer's assumptions); the ledger records which, and why.
* ``confirmation``: accepts what is there; nothing changes.
* ``continuation``: says more is coming and asks nothing yet ("wait, there's
  more"); nothing changes and the Assistant is not asked: the Mediator only
  acknowledges. A user's guidelines may say that their "ok" means this.
"""

REQUIREMENT_CHARS = 500
"""Longest requirement a reading may write (a real message's sentence fits; longer is material)."""
MAX_REQUIREMENTS = 16
"""Most requirements one reading may add (a long message's facts fit; its blocks are material)."""

RequirementText = Annotated[str, Field(max_length=REQUIREMENT_CHARS)]
Note = Annotated[str, Field(max_length=200)]
Label = Annotated[str, Field(max_length=5)]


class RequirementChange(BaseModel):
    """A correction's effect on one earlier requirement.

    Refused unless whole: a ``supersede`` or ``refine`` without its replacement,
    or a ``retract`` that carries one, is malformed output (retried), never a
    silent deletion.
    """

    model_config = ConfigDict(extra="forbid")

    requirement_id: str = Field(
        max_length=8, description="Id of the earlier requirement it changes, e.g. R2."
    )
    action: Literal["supersede", "refine", "retract"] = Field(
        description="supersede: replaced by a new value; refine: narrowed by a more specific "
        "requirement; retract: withdrawn with no replacement."
    )
    replacement: str = Field(
        default="",
        max_length=REQUIREMENT_CHARS,
        description="The requirement that replaces it (supersede) or narrows it (refine); "
        "empty for retract.",
    )
    reason: str = Field(default="", max_length=200, description="Why, in the user's terms.")

    @model_validator(mode="after")
    def _whole(self) -> RequirementChange:
        has_replacement = bool(self.replacement.strip())
        if self.action in ("supersede", "refine") and not has_replacement:
            raise ValueError(
                f"{self.action} of {self.requirement_id} needs its replacement: the requirement "
                "that takes its place (or use action 'retract' to withdraw it)"
            )
        if self.action == "retract" and has_replacement:
            raise ValueError(
                f"retract of {self.requirement_id} carries a replacement: use 'supersede' to "
                "replace it, or leave the replacement empty to withdraw it"
            )
        return self


class MediatorReading(BaseModel):
    """What the user means by the new message, read against the thread.

    Unknown fields are refused (a misspelt field would otherwise be dropped
    silently), so the retry fires instead.
    """

    model_config = ConfigDict(extra="forbid")

    task_type: str = Field(
        max_length=40,
        description="Kind of task in a few words (e.g. math, code, trip planning, email "
        "editing). Empty when it is unchanged.",
    )
    goal: str = Field(
        max_length=400,
        description="The task's goal in one sentence. Empty when it is unchanged.",
    )
    feedback: FeedbackKind = Field(
        description="new_task, new_information, correction, confirmation or continuation."
    )
    earlier_task: Label = Field(
        default="",
        description="Label (T1, T2...) of an earlier task the message goes back to: with "
        "new_task the new task builds on it (its requirements carry over); with any other "
        "feedback that task is current again. Empty otherwise.",
    )
    new_requirements: list[RequirementText] = Field(
        default_factory=list,
        max_length=MAX_REQUIREMENTS,
        description="Requirements of the current task this message adds: one fact each, one "
        "explicit sentence.",
    )
    standing: list[RequirementText] = Field(
        default_factory=list,
        max_length=8,
        description="What the message says for the whole conversation, not only this task: "
        "preferences, form, persona, facts about the user. One each, explicit.",
    )
    changes: list[RequirementChange] = Field(
        default_factory=list,
        max_length=8,
        description="For a correction: the earlier requirements it supersedes or retracts.",
    )
    answers: list[Label] = Field(
        default_factory=list,
        max_length=6,
        description="Labels (A3...) of the assistant's earlier answers the message refers to "
        "or builds on; they are handed to the assistant whole.",
    )
    missing_information: list[Note] = Field(
        default_factory=list,
        max_length=4,
        description="Details still open that block the task: it cannot be done without them, "
        "nobody has given them and the assistant does not have them.",
    )
    assumable_details: list[Note] = Field(
        default_factory=list,
        max_length=4,
        description="Details still open that the assistant can reasonably assume.",
    )
    material: list[Label] = Field(
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
    def from_state(cls, data: Mapping[str, Any]) -> MediatorReading:
        """Rebuild a reading stored in the thread state by ``model_dump``.

        Not re-validated: it was validated when the model produced it, and a
        pass-through fallback may hold a message longer than the model's bounds.
        A field an older version of the package did not store takes its default.
        """
        changes = [RequirementChange.model_construct(**c) for c in data.get("changes", [])]
        known = {name: data[name] for name in cls.model_fields if name in data}
        return cls.model_construct(**{**known, "changes": changes})


def reading_of(state: Mapping[str, Any]) -> MediatorReading | None:
    """The turn's stored reading (``None`` before any turn was read): the one way to read it."""
    data = state.get("reading")
    return MediatorReading.from_state(data) if isinstance(data, Mapping) and data else None
