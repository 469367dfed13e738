"""Thread state of the mediator graph.

Everything is plain JSON-friendly data (TypedDicts), so checkpoints stay
portable between SQLite, Postgres and LangGraph Server, and Studio's state
panel shows the ledger and the explicit instruction as they are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from langgraph_mediator.state.reading import FeedbackKind

RequirementStatus = Literal["active", "superseded", "retracted"]
RequirementKind = Literal["requirement", "material", "answer"]
"""A requirement the Mediator wrote; material, a block of the user's message verbatim; or an
answer, an earlier answer of the Assistant the user referred to, verbatim."""
RequirementScope = Literal["task", "thread"]
"""Whether a requirement holds for its task only, or for the whole thread until withdrawn."""


class Requirement(TypedDict):
    """One requirement, as the user stated it (made explicit by the Mediator)."""

    id: str
    text: str
    turn: int
    task: int
    status: RequirementStatus
    superseded_by: NotRequired[str | None]
    reason: NotRequired[str]
    change: NotRequired[str]
    """How it stopped being in force: ``supersede``, ``refine`` or ``retract``."""
    kind: NotRequired[RequirementKind]
    """Absent means ``requirement``; ``material`` and ``answer`` hold their text verbatim."""
    scope: NotRequired[RequirementScope]
    """Absent means ``task``; ``thread`` stays in force in every task until withdrawn."""
    answer_turn: NotRequired[int]
    """For ``kind="answer"``: the turn whose answer ``text`` is."""
    copied_from: NotRequired[str]
    """The requirement of an earlier task this one carries over (a task that builds on it)."""
    source: NotRequired[str]
    """The user's own words it was read from (the sentence of their message), verbatim."""


class LedgerDelta(TypedDict):
    """What one turn did to the ledger, for display and for benchmarks."""

    feedback: FeedbackKind
    added: list[str]
    superseded: list[str]
    retracted: list[str]
    ignored: list[str]


class Intent(TypedDict):
    """The current task as the Mediator understands it."""

    task_type: str
    goal: str
    missing_information: list[str]
    """Details that block the task and nobody has given."""
    assumable_details: NotRequired[list[str]]
    """Details nobody has given that the Assistant may assume (noted, never asked)."""


class TaskRecord(TypedDict):
    """One task of the thread: its request, and where it stands."""

    number: int
    intent: Intent
    """Its goal, kind and open details: as opened, and as they were when the thread left it."""
    turn: int
    """The turn that opened it."""
    answered_turn: int | None
    """The latest turn the Assistant answered it (``None``: not answered yet)."""
    builds_on: int | None
    """The earlier task whose requirements it carried over, if any."""


class AnswerRecord(TypedDict):
    """One answer of the Assistant, verbatim, addressable as ``A<turn>``."""

    turn: int
    task: int
    text: str


class AskedQuestion(TypedDict):
    """A clarifying question the Mediator asked, and the user's reply once it came."""

    turn: int
    task: int
    question: str
    details: list[str]
    """The missing details it asked about."""
    reply: str | None


class ModelCall(TypedDict):
    """One model request of a turn, counted from the response itself."""

    node: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class TurnUsage(TypedDict):
    """Calls and tokens of the latest turn (replaced each turn, so cost stays flat)."""

    turn: int
    calls: list[ModelCall]
    fallback: str | None


class InputState(TypedDict):
    """What a caller sends each turn: the new user message(s)."""

    messages: Annotated[list[AnyMessage], add_messages]


class MediatorState(InputState):
    """The whole thread: conversation, ledger, intent, instruction and bookkeeping."""

    user_id: NotRequired[str]
    turn: NotRequired[int]
    task_number: NotRequired[int]
    ledger: NotRequired[list[Requirement]]
    intent: NotRequired[Intent | None]
    reading: NotRequired[dict[str, Any] | None]
    """The Mediator's raw structured reading of the latest turn (for Studio and evals)."""
    ledger_delta: NotRequired[LedgerDelta | None]
    mediator_notes: NotRequired[list[str]]
    """Safeguards applied to the latest reading (see :func:`core.reading.settle_reading`)."""
    should_clarify: NotRequired[bool]
    pending_question: NotRequired[str | None]
    questions_asked: NotRequired[int]
    questions: NotRequired[list[AskedQuestion]]
    """Every question asked in the thread, with its reply: shown to the Mediator, never re-asked."""
    instruction: NotRequired[str]
    last_answer: NotRequired[str]
    tasks: NotRequired[list[TaskRecord]]
    """Every task of the thread, the answered ones included (a message may go back to one)."""
    answers: NotRequired[list[AnswerRecord]]
    """The Assistant's answers verbatim, by turn: what "the second draft" can point at."""
    turn_usage: NotRequired[TurnUsage]
