"""Reading a turn: one structured Mediator call, a fallback, and the safeguards.

:func:`read_message` renders the prompt (:mod:`.prompts`), asks for a
:class:`MediatorReading` (retrying malformed output once), falls back to
passing the message through when the model fails twice, and holds the result
to invariants a weak model may break. A turn never crashes on model output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from langgraph_mediator.core.ledger import active_requirements, answer_at
from langgraph_mediator.core.material import evident_material, message_blocks
from langgraph_mediator.core.prompts import mediator_prompt
from langgraph_mediator.core.sources import dropped_facts, sentences
from langgraph_mediator.core.tasks import TaskMove, earlier_task, move_task, thread_tasks
from langgraph_mediator.models import aask_structured, ask_structured
from langgraph_mediator.state.context import MediatorContext, StructuredOutput
from langgraph_mediator.state.mediator import MediatorState, ModelCall, Requirement
from langgraph_mediator.state.reading import UNCHANGING, MediatorReading
from langgraph_mediator.text import comparison_key, is_acknowledgement

READING_STEP = "detect_intent"
"""The step a Mediator call is recorded under: the graph's node (the middleware says its hook)."""
QUESTION_CHARS = 600
"""How far back from its end the last answer is searched for the question it ended on."""


@dataclass(frozen=True)
class TurnReading:
    """The settled reading of one turn and how it was reached."""

    reading: MediatorReading
    calls: list[ModelCall]
    fallback: str | None
    """Why the message was passed through instead of read (``None``: the model's reading)."""
    notes: list[str]
    """The safeguards :func:`settle_reading` applied."""


def ask_for_reading(
    model: BaseChatModel,
    prompt: list[BaseMessage],
    base_url: str | None,
    mode: StructuredOutput = "auto",
    step: str = READING_STEP,
) -> tuple[MediatorReading | None, list[ModelCall], str | None]:
    """The model's raw reading, retried once on malformed output; ``None`` means fall back.

    Returns the reading, one usage record per call (labelled ``step``), and why it fell back.
    """
    asked = ask_structured(model, MediatorReading, prompt, node=step, base_url=base_url, mode=mode)
    return _with_fallback(*asked)


async def aask_for_reading(
    model: BaseChatModel,
    prompt: list[BaseMessage],
    base_url: str | None,
    mode: StructuredOutput = "auto",
    step: str = READING_STEP,
) -> tuple[MediatorReading | None, list[ModelCall], str | None]:
    """:func:`ask_for_reading`, awaiting the model."""
    asked = await aask_structured(
        model, MediatorReading, prompt, node=step, base_url=base_url, mode=mode
    )
    return _with_fallback(*asked)


def _with_fallback(
    reading: MediatorReading | None, calls: list[ModelCall], error: str
) -> tuple[MediatorReading | None, list[ModelCall], str | None]:
    fallback = None if reading else f"malformed Mediator output twice: {error}"
    return reading, calls, fallback


def read_message(
    model: BaseChatModel,
    state: MediatorState,
    message: str,
    guidelines: list[str],
    context: MediatorContext,
    step: str = READING_STEP,
) -> TurnReading:
    """Read ``message`` against the thread in ``state``: ask, fall back if need be, settle.

    ``step`` labels the call's usage record. :func:`aread_message` is the async form.
    """
    prompt = mediator_prompt(state, message, guidelines, context.assistant_environment)
    asked = ask_for_reading(model, prompt, context.base_url, context.structured_output, step)
    return _settled_turn(state, message, context, *asked)


async def aread_message(
    model: BaseChatModel,
    state: MediatorState,
    message: str,
    guidelines: list[str],
    context: MediatorContext,
    step: str = READING_STEP,
) -> TurnReading:
    """:func:`read_message`, awaiting the model."""
    prompt = mediator_prompt(state, message, guidelines, context.assistant_environment)
    asked = await aask_for_reading(model, prompt, context.base_url, context.structured_output, step)
    return _settled_turn(state, message, context, *asked)


def _settled_turn(
    state: MediatorState,
    message: str,
    context: MediatorContext,
    reading: MediatorReading | None,
    calls: list[ModelCall],
    fallback: str | None,
) -> TurnReading:
    """The model's reading (or the fallback's), held to the safeguards."""
    settled, notes = settle_reading(
        reading or fallback_reading(state, message), state, message, context
    )
    return TurnReading(settled, calls, fallback, notes)


def fallback_reading(state: MediatorState, message: str) -> MediatorReading:
    """Pass the message through: a new task's goal, or a requirement of the current one.

    Evident material (code, tables, long blocks) goes to the material channel
    and the rest is kept verbatim as one requirement. Built with
    ``model_construct`` so an oversized message is kept whole rather than cut
    to the bounds.
    """
    blocks = message_blocks(message)
    material = [b.label for b in blocks if b.evident]
    words = "\n\n".join(b.text for b in blocks if not b.evident)
    intent = state.get("intent")
    # The first message opens the thread's first task: its words are the goal.
    if not intent:
        return MediatorReading.model_construct(
            task_type="general",
            goal=words or "Work with the material the user gave.",
            feedback="new_task",
            material=material,
        )
    # A bare "yes" carries nothing of its own: it is kept as the reply to the question it
    # answers (the Mediator's, or the one the Assistant's last answer ended on) ...
    if is_acknowledgement(words) and not material:
        question = open_question(state)
        # ... and with no question open it is a confirmation.
        if question is None:
            return MediatorReading.model_construct(task_type="", goal="", feedback="confirmation")
        words = f'To the question "{question}" the user replied: {words.strip()}'
    return MediatorReading.model_construct(
        task_type="",
        goal="",
        feedback="new_information",
        new_requirements=[words] if words else [],
        material=material,
    )


def open_question(state: MediatorState) -> str | None:
    """The question the new message may answer: the Mediator's, else the last answer's own."""
    pending = state.get("pending_question")
    # A question the Mediator asked was the last thing the user read.
    if pending:
        return pending
    last = sentences(state.get("last_answer", "")[-QUESTION_CHARS:])
    return last[-1] if last and last[-1].endswith("?") else None


def settle_reading(
    reading: MediatorReading, state: MediatorState, message: str, context: MediatorContext
) -> tuple[MediatorReading, list[str]]:
    """Hold the reading to the invariants a weak model may break; say which were applied.

    Each safeguard is in the helper that applies it, its rule in a comment there.
    """
    notes: list[str] = []
    reading = _without_acknowledgements(reading, state, message, notes)
    reading = _known_labels(_settle_feedback(reading, state, context, notes), state, notes)
    # Where the reading takes the thread is settled now; the goal and the words need it.
    move = move_task(state, reading, state.get("turn", 0) + 1)
    reading = _with_unchanged_goal(reading, state, move)
    blocks = message_blocks(message)
    # Evident material goes on verbatim even unnamed: no requirement could hold it.
    material, added = evident_material(blocks, reading.material)
    if added:
        notes.append(f"passed on {', '.join(added)} verbatim as material (code, table or long)")
    labels = [b.label for b in material]
    if labels != reading.material:
        reading = reading.model_copy(update={"material": labels})
    words = "\n\n".join(b.text for b in blocks if b not in material)
    # A turn that adds never loses the user's words; "go on" has none to keep.
    if reading.feedback not in UNCHANGING:
        reading = _keep_user_words(reading, state, move, words, notes)
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
    # "yes" to an open question may mean something: a reading that says what is kept.
    answers_question = bool(kept) and open_question(state) is not None
    says = answers_question or any(
        (reading.changes, reading.standing, reading.answers, reading.earlier_task)
    )
    # Saying nothing more, an "ok" can neither add a requirement nor open a task.
    if acknowledges and reading.feedback not in UNCHANGING and not says:
        notes.append(f"the message only acknowledges: a confirmation, not {reading.feedback}")
        reading = reading.model_copy(update={"feedback": "confirmation", "new_requirements": []})
    return reading


def _settle_feedback(
    reading: MediatorReading, state: MediatorState, context: MediatorContext, notes: list[str]
) -> MediatorReading:
    has_task = bool(state.get("intent"))
    # The first message always starts a task: there is nothing yet to add to or go back to.
    if not has_task and (reading.feedback != "new_task" or reading.earlier_task):
        if reading.feedback != "new_task":
            notes.append("first message of the thread: read as a new task")
        reading = reading.model_copy(
            update={"feedback": "new_task", "changes": [], "earlier_task": ""}
        )
    # ``single_task`` threads are one task by configuration: a later message never starts
    # another, nor goes back to one.
    elif (
        has_task
        and context.single_task
        and (reading.feedback == "new_task" or reading.earlier_task)
    ):
        feedback = "new_information" if reading.feedback == "new_task" else reading.feedback
        reading = reading.model_copy(update={"feedback": feedback, "earlier_task": ""})
        notes.append("single_task: a new or earlier task mid-thread kept as this task")
    # apply_reading applies changes under any label; the disagreement is worth a note.
    if reading.changes and reading.feedback != "correction":
        notes.append(f"the reading named changes under {reading.feedback!r}: applied them")
    return reading


def _known_labels(
    reading: MediatorReading, state: MediatorState, notes: list[str]
) -> MediatorReading:
    """Drop a task label or answer labels that name nothing the thread has."""
    # A guess at what a bad label meant could move the thread to the wrong task, or hand
    # the Assistant the wrong answer.
    update: dict[str, Any] = {}
    label = reading.earlier_task.strip()
    new_task = reading.feedback == "new_task"
    current = state.get("task_number", 0)
    if label and earlier_task(thread_tasks(state), label, current, new_task=new_task) is None:
        where = "the new task builds on none" if new_task else "the message stays with this task"
        notes.append(f"no earlier task {label[:5]!r} to go back to: {where}")
        update["earlier_task"] = ""
    answers = state.get("answers", [])
    known = [a for a in reading.answers if answer_at(answers, a) is not None]
    if known != reading.answers:
        unknown = [a[:5] for a in reading.answers if a not in known]
        notes.append(f"no earlier answer {', '.join(unknown)}: left out")
        update["answers"] = known
    return reading.model_copy(update=update) if update else reading


def _with_unchanged_goal(
    reading: MediatorReading, state: MediatorState, move: TaskMove
) -> MediatorReading:
    """Fill in the task type and goal a reading left empty, which means they are unchanged.

    Unchanged means the task's the message is about: the current one, or the
    earlier one it goes back to.
    """
    # A new task has no goal to keep: an empty one is filled from the message later.
    if not state.get("intent") or reading.feedback == "new_task":
        return reading
    intent = move.previous_intent
    if intent is None:
        return reading
    unchanged = {"goal": intent["goal"], "task_type": intent["task_type"]}
    update = {name: kept for name, kept in unchanged.items() if not getattr(reading, name).strip()}
    return reading.model_copy(update=update) if update else reading


def _in_force_after(state: MediatorState, move: TaskMove) -> list[Requirement]:
    """What will be in force once the reading moved the thread to its task (before it adds)."""
    ledger = state.get("ledger", [])
    kept = active_requirements(ledger, move.number)
    builds_on = move.tasks[-1]["builds_on"] if move.opened else None
    return kept + (active_requirements(ledger, builds_on) if builds_on is not None else [])


def _carriers(
    reading: MediatorReading, state: MediatorState, in_force: list[Requirement]
) -> list[str]:
    """Every text that states a fact for the Assistant once the turn is recorded."""
    answers = state.get("answers", [])
    named = [a["text"] for label in reading.answers if (a := answer_at(answers, label))]
    return [
        reading.goal,
        *reading.new_requirements,
        *reading.standing,
        *(c.replacement for c in reading.changes),
        *(r["text"] for r in in_force),
        *named,
    ]


def _keep_user_words(
    reading: MediatorReading, state: MediatorState, move: TaskMove, words: str, notes: list[str]
) -> MediatorReading:
    """Keep in the user's words what the reading lost (``words``: the message less its material)."""
    if not words.strip():
        return reading
    in_force = _in_force_after(state, move)
    starts_task = not state.get("intent") or reading.feedback == "new_task"
    carried = (
        reading.new_requirements
        or reading.standing
        or reading.changes
        or reading.material
        or reading.answers
    )
    # A reading that carries nothing (no requirement, change, material or answer, nor the
    # goal of a task it starts) keeps the message itself ...
    if not (carried or (starts_task and reading.goal.strip())):
        key = comparison_key(words)
        # ... unless it repeats what is in force: kept again, it would be a duplicate.
        if any(comparison_key(r["text"]) == key for r in in_force):
            return reading
        notes.append("the reading carried no requirement: kept the message verbatim")
        return reading.model_copy(update={"new_requirements": [words]})
    # A fact nothing carries is kept in the sentence that gave it, in the user's words.
    dropped = dropped_facts(words, _carriers(reading, state, in_force))
    kept = list(dict.fromkeys(sentence for _fact, sentence in dropped))
    if not kept:
        return reading
    facts = ", ".join(dict.fromkeys(fact.text for fact, _sentence in dropped))
    notes.append(f"kept the user's words for facts the reading dropped: {facts}")
    return reading.model_copy(update={"new_requirements": [*reading.new_requirements, *kept]})
