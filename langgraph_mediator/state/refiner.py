"""State and structured-output schemas of the refiner graph (the Refiner).

Input: a ``user_id`` and trajectory pairs. A pair holds a failed trajectory of
a task and either a successful trajectory of the same task or the fully
specified instruction the Mediator should have reached. Trajectories are data,
never instructions: their text is fenced in prompts and the output validated.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, Field, model_validator
from typing_extensions import TypedDict

from langgraph_mediator.state.mediator import ModelCall
from langgraph_mediator.state.reading import FeedbackKind

MAX_GUIDELINES = 12
"""Cap on a user's guideline set: more rules dilute the Mediator's prompt."""
GUIDELINE_MAX_CHARS = 200


_IDS = r"[A-Za-z0-9]{1,8}(?:, [A-Za-z0-9]{1,8}){0,49}"
LEDGER_CHANGE = rf"^(?:(?:added|superseded|retracted|ignored) {_IDS}(?:; |$))*$"
"""What :func:`~langgraph_mediator.core.ledger.describe_delta` writes: "added R3; superseded R1".

Only ids of up to 8 letters and digits, so the field holds no sentence; the
Refiner's prompt fences it all the same.
"""


class TurnRecord(BaseModel):
    """One turn of a trajectory: what the user said, how the Mediator read it, the answer.

    ``feedback`` and ``ledger_change`` say how the Mediator read the turn (a
    correction that added R4 and superseded R1), so the Refiner need not guess
    it from the instruction; both are empty in records made before they existed.
    """

    user: str = Field(max_length=20_000)
    instruction: str = Field(default="", max_length=20_000)
    answer: str = Field(default="", max_length=20_000)
    feedback: FeedbackKind | Literal[""] = ""
    ledger_change: str = Field(default="", max_length=2_000, pattern=LEDGER_CHANGE)


class Trajectory(BaseModel):
    """A whole conversation on one task, with its score (1.0 = solved)."""

    id: str = Field(min_length=1, max_length=200)
    task_id: str = Field(min_length=1, max_length=200)
    turns: list[TurnRecord] = Field(min_length=1, max_length=200)
    score: float = Field(ge=0.0, le=1.0)


class TrajectoryPair(BaseModel):
    """A failure and what success looked like: a successful run or the reference instruction."""

    failed: Trajectory
    successful: Trajectory | None = None
    reference_instruction: str | None = Field(default=None, max_length=20_000)

    @model_validator(mode="after")
    def _has_a_reference(self) -> TrajectoryPair:
        if self.successful is None and not (self.reference_instruction or "").strip():
            raise ValueError("a pair needs a successful trajectory or a reference_instruction")
        if self.successful is not None and self.successful.task_id != self.failed.task_id:
            raise ValueError("the successful trajectory must be of the failed one's task")
        return self

    @property
    def id(self) -> str:
        """Provenance label: the trajectories this pair is made of."""
        other = self.successful.id if self.successful else "reference"
        return f"{self.failed.id}|{other}"


MisreadingKind = Literal[
    "assumed_a_detail",
    "correction_not_applied",
    "continuation_read_as_done",
    "requirement_missed",
    "requirement_lost",
    "needless_question",
    "other",
]
"""What went wrong in the Mediator's reading (the diagnosis prompt defines each).

Named by the effect, not by the user's wording: a correction given as a bare
value and one given with "no, ..." are both ``correction_not_applied`` when
the old value stayed or the new one was only added beside it.
"""


class Misreading(BaseModel):
    """One turn where the Mediator's reading diverged from what the user meant."""

    kind: MisreadingKind = Field(description="What went wrong.")
    turn: int = Field(ge=0, le=200, description="The turn where it happened (1-based).")
    evidence: str = Field(max_length=300, description="A short quote from that turn.")
    explanation: str = Field(max_length=300, description="What the Mediator should have read.")
    habit: str = Field(
        default="",
        max_length=200,
        description="The user's way of speaking that misled the Mediator, in general terms "
        "('corrects with a bare value and no marker'); empty when none.",
    )


class Diagnosis(BaseModel):
    """Every misreading of one failed conversation, in turn order (not only the first)."""

    misreadings: list[Misreading] = Field(min_length=1, max_length=6)


GuidelineText = Annotated[str, Field(max_length=GUIDELINE_MAX_CHARS)]


class ProposedGuideline(BaseModel):
    """A short, imperative, general rule for reading this user's intent."""

    text: GuidelineText = Field(description="One imperative sentence, general, not task-specific.")
    diagnosis: int = Field(ge=1, le=50, description="Number of the diagnosis it comes from.")


class Proposal(BaseModel):
    """Guidelines proposed from the diagnoses."""

    guidelines: list[ProposedGuideline] = Field(default_factory=list, max_length=6)


class MergedGuideline(BaseModel):
    """One rule of the merged set, with the ids of the rules it stands for."""

    text: GuidelineText
    sources: list[Annotated[str, Field(max_length=12)]] = Field(
        default_factory=list, max_length=12, description="Ids (G1, P2, ...) it keeps or combines."
    )


class DroppedRule(BaseModel):
    """A rule the merge leaves out, and why."""

    id: str = Field(max_length=12, description="Id of the rule left out (G1, P2, ...).")
    reason: str = Field(
        max_length=200, description="Why: 'duplicate of P2', 'conflicts with the newer P1'."
    )


class MergedSet(BaseModel):
    """The user's new guideline set: deduplicated, conflicts resolved, capped.

    Every existing and new id is accounted for: cited by a merged rule or
    dropped with a reason. The merge step keeps, as it was, any rule the
    reply neither cites nor drops.
    """

    guidelines: list[MergedGuideline] = Field(default_factory=list, max_length=MAX_GUIDELINES)
    dropped: list[DroppedRule] = Field(default_factory=list, max_length=2 * MAX_GUIDELINES)


class Guideline(TypedDict):
    """A stored guideline with its provenance."""

    id: str
    text: str
    provenance: list[str]
    created_at: str
    updated_at: str


class Candidate(TypedDict):
    """A proposed guideline before merging: its text and the pairs that produced it."""

    id: str
    text: str
    provenance: list[str]


class Rejection(TypedDict):
    """A proposed rule the validator refused, and why."""

    text: str
    reason: str


class RefinerInput(TypedDict):
    """What a caller sends: whose guidelines, and the evidence."""

    user_id: str
    pairs: list[dict[str, Any]]


class RefinerState(RefinerInput):
    """The Refiner's working state."""

    diagnoses: NotRequired[list[dict[str, Any]]]
    candidates: NotRequired[list[Candidate]]
    rejected: NotRequired[list[Rejection]]
    existing: NotRequired[list[Guideline]]
    guidelines: NotRequired[list[Guideline]]
    version: NotRequired[int]
    usage: NotRequired[Annotated[list[ModelCall], operator.add]]
    """Every model call of the run, node by node, as the Mediator records its turns."""
