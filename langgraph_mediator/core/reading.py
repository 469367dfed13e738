"""Reading a turn: one structured Mediator call, a fallback, and the safeguards.

:func:`read_turn` renders the prompt (:mod:`.prompts`), asks for a
:class:`MediatorReading` (retrying malformed output once), falls back to
passing the message through when the model fails twice, and holds the result
to invariants a weak model may break. A turn never crashes on model output.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from langgraph_mediator.core.ledger import in_force
from langgraph_mediator.core.material import evident_material, message_blocks
from langgraph_mediator.core.prompts import mediator_prompt
from langgraph_mediator.core.sources import dropped_facts
from langgraph_mediator.models import ask_structured
from langgraph_mediator.state.context import MediatorContext, StructuredOutput
from langgraph_mediator.state.mediator import MediatorState, ModelCall
from langgraph_mediator.state.reading import MediatorReading
from langgraph_mediator.text import is_acknowledgement

UNCHANGING = ("confirmation", "continuation")
"""Feedback kinds that leave the ledger as it is (and so keep none of the message's words)."""


@dataclass(frozen=True)
class TurnReading:
    """The settled reading of one turn and how it was reached."""

    reading: MediatorReading
    calls: list[ModelCall]
    fallback: str | None
    """Why the message was passed through instead of read (``None``: the model's reading)."""
    notes: list[str]
    """The safeguards :func:`settle_reading` applied."""


async def ask_for_reading(
    model: BaseChatModel,
    prompt: list[BaseMessage],
    base_url: str | None,
    mode: StructuredOutput = "auto",
) -> tuple[MediatorReading | None, list[ModelCall], str | None]:
    """The model's raw reading, retried once on malformed output; ``None`` means fall back.

    Returns the reading, one usage record per call, and why it fell back.
    """
    reading, calls, error = await ask_structured(
        model, MediatorReading, prompt, node="detect_intent", base_url=base_url, mode=mode
    )
    fallback = None if reading else f"malformed Mediator output twice: {error}"
    return reading, calls, fallback


async def read_turn(
    model: BaseChatModel,
    state: MediatorState,
    message: str,
    guidelines: list[str],
    context: MediatorContext,
) -> TurnReading:
    """Read ``message`` against the thread in ``state``: ask, fall back if need be, settle."""
    prompt = mediator_prompt(state, message, guidelines, context.assistant_environment)
    reading, calls, fallback = await ask_for_reading(
        model, prompt, context.base_url, context.structured_output
    )
    settled, notes = settle_reading(
        reading or fallback_reading(state, message), state, message, context
    )
    return TurnReading(settled, calls, fallback, notes)


def fallback_reading(state: MediatorState, message: str) -> MediatorReading:
    """Pass the message through: a new task's goal, or a requirement of the current one.

    Evident material (code, tables, long blocks) goes to the material channel
    and the rest is kept as one requirement, unless it only acknowledges
    ("ok"): that is a confirmation, never a requirement. Built with ``model_construct`` so
    an oversized message is kept whole rather than cut to the bounds.
    """
    blocks = message_blocks(message)
    material = [b.label for b in blocks if b.evident]
    words = "\n\n".join(b.text for b in blocks if not b.evident)
    intent = state.get("intent")
    feedback = "confirmation" if intent and is_acknowledgement(words) and not material else None
    if not intent:
        return MediatorReading.model_construct(
            task_type="general", goal=words or "Work with the material the user gave.",
            feedback="new_task", new_requirements=[],
            changes=[], missing_information=[], assumable_details=[], material=material,
            clarifying_question="",
        )  # fmt: skip
    return MediatorReading.model_construct(
        task_type=intent["task_type"], goal=intent["goal"],
        feedback=feedback or "new_information",
        new_requirements=[words] if words and not feedback else [], changes=[],
        missing_information=[], assumable_details=[], material=material, clarifying_question="",
    )  # fmt: skip


def settle_reading(
    reading: MediatorReading, state: MediatorState, message: str, context: MediatorContext
) -> tuple[MediatorReading, list[str]]:
    """Hold the reading to the invariants a weak model may break; say which were applied.

    The first message always starts a task; with ``single_task`` a later one
    never does; a task type or goal left empty is the current one; evident
    material is always passed on verbatim; a message that only acknowledges
    ("ok") is never a requirement; and a turn that is not a confirmation or a
    continuation never loses the user's words: a fact of the message that no
    part of the reading carries is kept in the sentence that gave it, and a
    reading that carries nothing (no requirement, change or material, nor the
    goal of a task it starts) keeps the message itself.
    """
    notes: list[str] = []
    reading = _without_acknowledgements(reading, state, message, notes)
    reading = _with_unchanged_goal(_settle_feedback(reading, state, context, notes), state)
    blocks = message_blocks(message)
    material, added = evident_material(blocks, reading.material)
    if added:
        notes.append(f"passed on {', '.join(added)} verbatim as material (code, table or long)")
    labels = [b.label for b in material]
    if labels != reading.material:
        reading = reading.model_copy(update={"material": labels})
    words = "\n\n".join(b.text for b in blocks if b not in material)
    if reading.feedback not in UNCHANGING:
        reading = _keep_user_words(reading, state, words, notes)
    return reading, notes


def _without_acknowledgements(
    reading: MediatorReading, state: MediatorState, message: str, notes: list[str]
) -> MediatorReading:
    """Never a bare "ok" as a requirement; a message that only acknowledges changes nothing."""
    kept = [r for r in reading.new_requirements if not is_acknowledgement(r)]
    if len(kept) != len(reading.new_requirements):
        notes.append("an acknowledgement is not a requirement: left it out")
        reading = reading.model_copy(update={"new_requirements": kept})
    acknowledges = state.get("intent") and is_acknowledgement(message)
    if acknowledges and reading.feedback not in UNCHANGING and not reading.changes:
        notes.append(f"the message only acknowledges: a confirmation, not {reading.feedback}")
        reading = reading.model_copy(update={"feedback": "confirmation", "new_requirements": []})
    return reading


def _settle_feedback(
    reading: MediatorReading, state: MediatorState, context: MediatorContext, notes: list[str]
) -> MediatorReading:
    has_task = bool(state.get("intent"))
    if not has_task and reading.feedback != "new_task":
        reading = reading.model_copy(update={"feedback": "new_task", "changes": []})
        notes.append("first message of the thread: read as a new task")
    elif has_task and reading.feedback == "new_task" and context.single_task:
        reading = reading.model_copy(update={"feedback": "new_information"})
        notes.append("single_task: a new-task reading mid-thread kept as new information")
    if reading.changes and reading.feedback != "correction":
        notes.append(f"the reading named changes under {reading.feedback!r}: applied them")
    return reading


def _with_unchanged_goal(reading: MediatorReading, state: MediatorState) -> MediatorReading:
    """Fill in the task type and goal a reading left empty, which means they are unchanged."""
    intent = state.get("intent")
    if intent is None or reading.feedback == "new_task":
        return reading
    unchanged = {"goal": intent["goal"], "task_type": intent["task_type"]}
    update = {name: kept for name, kept in unchanged.items() if not getattr(reading, name).strip()}
    return reading.model_copy(update=update) if update else reading


def _keep_user_words(
    reading: MediatorReading, state: MediatorState, words: str, notes: list[str]
) -> MediatorReading:
    """Keep in the user's words what the reading lost (``words``: the message less its material)."""
    if not words.strip():
        return reading
    task = state.get("task_number", 0) if reading.feedback != "new_task" else -1
    known = [r["text"] for r in state.get("ledger", []) if r["task"] == task]
    starts_task = not state.get("intent") or reading.feedback == "new_task"
    carried = reading.new_requirements or reading.changes or reading.material
    if not (carried or (starts_task and reading.goal.strip())):
        if in_force(state.get("ledger", []), task, words):
            return reading
        notes.append("the reading carried no requirement: kept the message verbatim")
        return reading.model_copy(update={"new_requirements": [words]})
    carriers = [reading.goal, *reading.new_requirements, *known]
    carriers += [c.replacement for c in reading.changes]
    dropped = dropped_facts(words, carriers)
    kept = list(dict.fromkeys(sentence for _fact, sentence in dropped))
    if not kept:
        return reading
    facts = ", ".join(dict.fromkeys(fact.text for fact, _sentence in dropped))
    notes.append(f"kept the user's words for facts the reading dropped: {facts}")
    return reading.model_copy(update={"new_requirements": [*reading.new_requirements, *kept]})
