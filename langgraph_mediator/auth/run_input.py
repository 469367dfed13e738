"""One door for what a client sends a run, on every graph, checked before the run exists.

A client adds the user's words and nothing else: new human messages (the
mediator and agent graphs), the Refiner's ``user_id`` and trajectory
``pairs``, or an answer that resumes a clarifying question. Everything else
in a thread (the ledger, the intent, the instruction, AI and tool messages,
the guidelines a Refiner run is about to write) is written by the graphs,
so a client that could set it would choose what the Assistant is told, or
store rules the Refiner's validator never saw. Hence, for a caller who is
not an operator:

* the input holds only :data:`CLIENT_INPUT_KEYS`, and its messages are human
  messages of text within the message limit (any type is checked for size);
* a ``command`` may only resume (``update`` and ``goto`` write state);
* a resume answer is text within the limit, or ``{"answer": <text>}``;
* a run carries an input or a resume answer (a bare run would continue
  whatever state a forged write left behind).

Operators (``MEDIATOR_AUTH=none``, trusted Studio) keep ``update`` and
``goto`` for debugging; their text is checked like anyone's. The graphs check
again inside (the Refiner's writer re-validates what it stores), so this
door is the first line, not the only one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from langgraph_mediator.core.messages import check_client_messages, validate_user_message
from langgraph_mediator.core.refiner.diagnosis import parse_pairs
from langgraph_mediator.errors import InvalidMessageError
from langgraph_mediator.state.context import MediatorContext

CLIENT_INPUT_KEYS = frozenset({"messages", "user_id", "pairs"})
"""The input keys of the three graphs' input schemas: ``messages`` (mediator, agent) and
``user_id`` and ``pairs`` (refiner). Any other key names state a graph writes."""
STATE_COMMANDS = ("update", "goto")
MAX_PAIRS = 50
"""Trajectory pairs one Refiner run takes: each costs a model call."""


class ForbiddenRunInput(Exception):
    """A run asks for what only the graphs (or an operator) may do: answered 403."""


def run_argument_sets(value: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every place a run request keeps its input, command and context.

    langgraph-api nests them under ``kwargs`` (a cron under ``payload``); Aegra keeps
    them at the top; Aegra's v2 ``/commands`` under ``params`` (its resume answer is
    ``response``). All are checked, so no shape can hide another.
    """
    yield value
    for nested in ("kwargs", "payload", "params"):
        arguments = value.get(nested)
        if isinstance(arguments, Mapping):
            yield arguments


def check_run_request(value: Mapping[str, Any], *, operator: bool) -> None:
    """Refuse a run's input, command or resume answer before the run exists.

    Raises:
        InvalidMessageError: a message or answer is not text, is empty or too long, or
            a message is not a human message.
        ValueError: the input is not an object, names a key no graph takes, or its
            trajectory pairs are malformed.
        ForbiddenRunInput: a non-operator's command sets state, or the run has neither
            input nor answer.

    """
    limit = MediatorContext().max_message_chars
    inputs, answers = 0, 0
    for arguments in run_argument_sets(value):
        command = arguments.get("command")
        answers += len(resume_answers(command, arguments, limit=limit))
        if not operator:
            refuse_state_commands(command, arguments)
        if arguments.get("input") is not None:
            check_input(arguments["input"], limit=limit)
            inputs += 1
    # Aegra's v2 commands other than run.start (a cancel, say) start no run of their own.
    starts_a_run = value.get("method") in (None, "run.start")
    if not operator and starts_a_run and not inputs and not answers:
        raise ForbiddenRunInput(
            "A run needs input: new messages (or the Refiner's user_id and pairs), or a "
            "resume answer."
        )


def resume_answers(command: Any, arguments: Mapping[str, Any], *, limit: int) -> list[str]:
    """The resume answers a run carries, each checked (``command.resume`` or v2 ``response``)."""
    answers: list[Any] = []
    if isinstance(command, Mapping) and "resume" in command:
        answers.append(command["resume"])
    if "response" in arguments:
        answers.append(arguments["response"])
    responses = arguments.get("responses")
    if responses is not None:
        answers += batch_answers(responses)
    return [resume_answer(answer, limit=limit) for answer in answers]


def batch_answers(responses: Any) -> list[Any]:
    """The answers of Aegra's v2 batch resume: ``[{"interrupt_id": ..., "response": ...}]``."""
    if not isinstance(responses, list) or not all(
        isinstance(entry, Mapping) and "response" in entry for entry in responses
    ):
        raise ValueError('responses must be a list of {"interrupt_id": ..., "response": ...}.')
    return [entry["response"] for entry in responses]


def resume_answer(resume: Any, *, limit: int) -> str:
    """The text of a resume answer: the text itself, or ``{"answer": <text>}``."""
    if isinstance(resume, Mapping):
        if set(resume) != {"answer"}:
            raise InvalidMessageError(
                'Resume with the answer as text, or as {"answer": "<text>"}; got the keys '
                f"{sorted(map(str, resume))[:5]}."
            )
        resume = resume["answer"]
    if not isinstance(resume, str):
        raise InvalidMessageError(
            f"A resume answer must be text, got {type(resume).__name__}: send what the user "
            "answered to the question."
        )
    return validate_user_message(resume, max_chars=limit)


def refuse_state_commands(command: Any, arguments: Mapping[str, Any]) -> None:
    """403 for ``update`` or ``goto`` in a command (or in v2 ``params``): they write state."""
    places = [command] if isinstance(command, Mapping) else []
    if "command" not in arguments and any(k in arguments for k in STATE_COMMANDS):
        places.append(arguments)  # Aegra's v2 input.respond keeps them beside the response
    for place in places:
        used = [key for key in STATE_COMMANDS if place.get(key) is not None]
        if used:
            raise ForbiddenRunInput(
                f"command.{used[0]} writes the graph's state, which only the graphs write: "
                "send new messages, or resume with {'resume': <answer>}."
            )


def check_input(run_input: Any, *, limit: int) -> None:
    """An input holds only the keys a client may set, each of the shape the graph takes."""
    if not isinstance(run_input, Mapping):
        raise ValueError(
            f"A run's input must be an object such as {{'messages': [...]}}, got "
            f"{type(run_input).__name__}."
        )
    unknown = sorted(str(key) for key in run_input if key not in CLIENT_INPUT_KEYS)
    if unknown:
        raise ValueError(
            f"A run's input may set only {sorted(CLIENT_INPUT_KEYS)}; {unknown[:5]} belong to "
            "the state the graphs write."
        )
    messages = run_input.get("messages")
    if messages is not None:
        check_client_messages(
            messages if isinstance(messages, list) else [messages], max_chars=limit
        )
    if "pairs" in run_input:
        check_pairs(run_input["pairs"])


def check_pairs(pairs: Any) -> None:
    """The Refiner's trajectory pairs: a list of at most :data:`MAX_PAIRS`, each well formed.

    Each pair is held to the Refiner's own parser, so the door refuses what the graph would.
    """
    if not isinstance(pairs, list):
        raise ValueError("pairs must be a non-empty list of trajectory pairs.")
    if len(pairs) > MAX_PAIRS:
        raise ValueError(f"A Refiner run takes at most {MAX_PAIRS} pairs; got {len(pairs)}.")
    parse_pairs(pairs)


STATE_WRITE_FIELDS = ("values", "as_node", "supersteps", "checkpoint", "checkpoint_id")


def is_state_write(value: Mapping[str, Any]) -> bool:
    """Whether a ``threads.update`` (or create) writes a thread's state, not its metadata.

    Aegra passes the request body (``values``, ``as_node``); langgraph-api passes
    only the ``thread_id`` for a state write, while a metadata change carries
    ``metadata`` and a run's cancellation an ``action``.
    """
    if any(value.get(key) is not None for key in STATE_WRITE_FIELDS):
        return True
    return set(value) == {"thread_id"}
