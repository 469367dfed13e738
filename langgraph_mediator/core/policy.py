"""When the Mediator asks, and what it asks: the clarification policy.

Asking too little lets the Assistant assume; asking too much fails too
(CollabLLM, QuestBench). The configured policy (``never`` / ``when_missing`` /
``always``) and the per-task budget decide whether to ask; the questions
already asked decide what: a detail the user was asked about, whether they
answered or passed over it, is never asked again. It goes to the
instruction's "Not given yet" part instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from langgraph_mediator.facts import extract_facts
from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.mediator import AskedQuestion
from langgraph_mediator.state.reading import UNCHANGING, MediatorReading
from langgraph_mediator.text import content_words

SAME_QUESTION = 0.6
"""Share of the shorter question's content words the longer one must hold to be the same."""


def same_question(one: str, other: str) -> bool:
    """Whether two questions (or missing details) ask about the same thing.

    They do when their content words are the same, or when they share at
    least two and those make up most of the shorter one ("the second
    triangle's base" and "the base of the second triangle"); "the unit" and
    "the target unit" share one word and are different questions. Never when
    they name different things: a name, number or identifier one holds and
    the other lacks ("the Facebook lawsuit" is not "the Google lawsuit").
    """
    a, b = content_words(one), content_words(other)
    if not a or not b:
        return False
    if {(f.kind, f.value) for f in extract_facts(one)} != {
        (f.kind, f.value) for f in extract_facts(other)
    }:
        return False
    shared = len(a & b)
    return a == b or (shared >= 2 and shared / min(len(a), len(b)) >= SAME_QUESTION)


def already_asked(topic: str, asked: Sequence[AskedQuestion]) -> bool:
    """Whether ``topic`` (a question or a detail) was asked about before in the task."""
    return any(
        same_question(topic, earlier) for q in asked for earlier in (q["question"], *q["details"])
    )


class Question(NamedTuple):
    """A question to ask and the missing details it asks about."""

    text: str
    details: list[str]


def question_for(reading: MediatorReading, asked: Sequence[AskedQuestion] = ()) -> Question | None:
    """The question to ask now, or ``None`` when every candidate was asked already.

    The model's question comes first (about the first blocking detail not asked
    before); then one built from each blocking detail in turn; under the
    ``always`` policy with nothing missing, a general one.
    """
    candidates: list[Question] = []
    question = reading.clarifying_question.strip()
    if question:
        # A blocking detail passed over stays listed: the question is about the first one not.
        unasked = [d for d in reading.missing_information if not already_asked(d, asked)]
        candidates.append(Question(question, unasked[:1]))
    for detail in reading.missing_information:
        text = f"Before I start: could you tell me {detail.strip().rstrip('?.')}?"
        candidates.append(Question(text, [detail]))
    if not reading.missing_information:
        # Only ``always`` gets here with nothing missing: it asks an open question, not none.
        goal = reading.goal.strip().rstrip(".")
        text = f"Before I start on this ({goal}), is there anything else I should know?"
        candidates.append(Question(text, []))
    for candidate in candidates:
        topics = [candidate.text, *candidate.details]
        if not any(already_asked(topic, asked) for topic in topics):
            return candidate
    return None


def wants_clarification(
    context: MediatorContext,
    reading: MediatorReading,
    asked: int,
    questions: Sequence[AskedQuestion] = (),
) -> bool:
    """Whether this turn should end with a question (pure: policy, reading, budget, history).

    ``asked`` counts the task's questions so far; ``questions`` are the task's
    questions themselves.
    """
    # Past the task's budget, asking more fails the user too (the module's note): what is still
    # missing goes to the instruction's "Not given yet" part instead.
    if context.clarification_policy == "never" or asked >= context.max_questions_per_task:
        return False
    # A confirmation or a continuation adds nothing to ask about; a question would stall it.
    if reading.feedback in UNCHANGING:
        return False
    # With nothing blocking, the Assistant can go ahead (stating its assumptions).
    if context.clarification_policy == "when_missing" and not reading.missing_information:
        return False
    # Every candidate asked before: the user answered it or passed over it, so not again.
    return question_for(reading, questions) is not None
