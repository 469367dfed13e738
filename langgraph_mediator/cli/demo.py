"""``mediator demo``: a scripted sharded conversation, turn by turn, checked as it goes.

A task revealed one requirement per turn, with a fragmentary correction in the
middle, the pattern that makes assistants get lost. When the Mediator asks a
question, the scripted user answers with the next shard, as in the
sharded-conversation protocol.

The script knows what each turn means: its feedback kind, the facts the ledger
must hold after it, the values it takes back and the final answer. After each
turn the demo compares the Mediator's reading with that and says plainly
whether it matched and, when it did not, which model misread. On the embedded
135M model a misreading is the model's limit, not the design's, and the demo
says so and ends with the one command that runs it on a capable endpoint. The
checks (:func:`judge_turn`, :func:`summary_lines`) are pure; printing is apart.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from langgraph_mediator.cli.common import Command, add_conversation_options, context_from
from langgraph_mediator.cli.render import ANSWERING_NODE, print_turn
from langgraph_mediator.core.instruction import without_answers
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.models.chat import provider_of
from langgraph_mediator.persistence import MEMORY, open_persistence
from langgraph_mediator.session import MediatorSession, TurnResult
from langgraph_mediator.state import MediatorContext

# --- what the script knows ---------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A value the script looks for in what the Mediator passes on (``label`` is shown)."""

    label: str
    pattern: re.Pattern[str]

    def found_in(self, text: str) -> bool:
        """Whether ``text`` states this value."""
        return self.pattern.search(text) is not None


def metres(value: str) -> Fact:
    """``value`` metres, written ``5 m``, ``5m``, ``5 metres`` or ``5-metre``.

    Not ``2.5 m`` when looking for ``5 m``, nor ``5 m²``; and a value the text
    negates ("5 m wide, not 4 m", "instead of 4 m") is not stated: a correct
    instruction may name the old value only to rule it out.
    """
    negations = ("not", "instead of", "rather than", "from", "no longer")
    negated = "".join(f"(?<!{words} )" for words in negations)
    number = re.escape(value)
    pattern = rf"{negated}(?<![\d.,]){number}[\s-]*(?:m|metres?|meters?)(?!\w)"
    return Fact(f"{value} m", re.compile(pattern, re.IGNORECASE))


FOUR_WALLS = Fact("four walls", re.compile(r"\b(?:four|4)\s+walls?\b", re.IGNORECASE))
WIDTH_4 = metres("4")
WIDTH_5 = metres("5")
HEIGHT = metres("2.5")
COVERAGE = Fact(
    "10 square metres a can",
    re.compile(r"(?<![\d.,])10\s*(?:square\s+met(?:re|er)s?|sq\.?\s*m|m²|m\^?2)", re.I),
)
TWO_COATS = Fact("two coats", re.compile(r"\b(?:two|2)\s+coats?\b", re.IGNORECASE))


@dataclass(frozen=True)
class ExpectedAnswer:
    """The right final answer, and its working (shown when the Assistant gets it wrong)."""

    cans: int
    working: str


@dataclass(frozen=True)
class TurnExpectation:
    """What one scripted turn means, and what must hold once the Mediator has read it."""

    shard: str
    feedback: tuple[str, ...]
    """The feedback kinds that are a right reading of it."""
    meaning: str
    """What it is, in words: "a correction (...)"."""
    needed: tuple[Fact, ...] = ()
    """Facts given so far that the ledger (or the instruction) must state after this turn."""
    stale: tuple[Fact, ...] = ()
    """Values the user took back that must no longer be stated."""
    answer: ExpectedAnswer | None = None
    """Set on the last turn, when the task is fully given."""


DEMO_SCRIPT: tuple[TurnExpectation, ...] = (
    TurnExpectation(
        "I need to work out how many cans of paint to buy for my bedroom.",
        ("new_task",),
        "a new task",
    ),
    TurnExpectation(
        "The room has four walls, each 4 m wide and 2.5 m high.",
        ("new_information",),
        "new information (the walls' number and size)",
        needed=(FOUR_WALLS, WIDTH_4, HEIGHT),
    ),
    TurnExpectation(
        "One can of paint covers 10 square metres.",
        ("new_information",),
        "new information (what a can covers)",
        needed=(FOUR_WALLS, WIDTH_4, HEIGHT, COVERAGE),
    ),
    TurnExpectation(
        "Oh wait, the walls are 5 m wide, not 4.",
        ("correction",),
        "a correction: the walls are 5 m wide, not 4 m, so 5 m must replace the 4 m requirement",
        needed=(FOUR_WALLS, WIDTH_5, HEIGHT, COVERAGE),
        stale=(WIDTH_4,),
    ),
    TurnExpectation(
        "And I want two coats.",
        ("new_information",),
        "new information (the number of coats)",
        needed=(FOUR_WALLS, WIDTH_5, HEIGHT, COVERAGE, TWO_COATS),
        stale=(WIDTH_4,),
        answer=ExpectedAnswer(10, "4 walls x 5 m x 2.5 m x 2 coats = 100 m², at 10 m² a can"),
    ),
)
"""The demo, turn by turn, with what each turn must be read as."""

DEMO_SHARDS: tuple[str, ...] = tuple(turn.shard for turn in DEMO_SCRIPT)
"""Fully specified: 4 walls x 5 m x 2.5 m x 2 coats = 100 m^2, i.e. 10 cans."""

# --- which models answered ---------------------------------------------------------

EMBEDDED = "the embedded 135M model"


@dataclass(frozen=True)
class DemoModels:
    """Which models the demo's two calls per turn go to, as the verdicts name them."""

    mediator: str
    assistant: str
    mediator_embedded: bool = False
    assistant_embedded: bool = False

    @property
    def mediator_who(self) -> str:
        """The Mediator model, as a sentence names it."""
        return EMBEDDED if self.mediator_embedded else _name(self.mediator, "the Mediator model")

    @property
    def assistant_who(self) -> str:
        """The Assistant model, as a sentence names it."""
        return EMBEDDED if self.assistant_embedded else _name(self.assistant, "the Assistant model")

    @property
    def any_embedded(self) -> bool:
        """Whether either call runs on the embedded model (the endpoint command then helps)."""
        return self.mediator_embedded or self.assistant_embedded


def _name(model: str, role: str = "") -> str:
    # No name set means the endpoint's own model, named once a call has answered.
    if not model:
        return "the model the endpoint serves"
    return f"{role} {model}" if role else model


def describe_models(context: MediatorContext) -> DemoModels:
    """The models ``context`` sends the calls to.

    A plain model name (or none) with no ``base_url`` goes to the embedded
    server whatever the name says; a ``provider:model`` string goes to its
    provider (see :func:`~langgraph_mediator.models.chat.build_chat_model`).
    """

    def embedded(model: str) -> bool:
        return not context.base_url and provider_of(model) is None

    return DemoModels(
        mediator=context.mediator_model,
        assistant=context.assistant_model,
        mediator_embedded=embedded(context.mediator_model),
        assistant_embedded=embedded(context.assistant_model),
    )


def named_by_calls(models: DemoModels, result: TurnResult) -> DemoModels:
    """``models`` with an unset name filled in from the model a turn's calls report.

    With no ``MEDIATOR_MODEL`` an endpoint's calls go to the model it serves;
    the usage records name it, so a verdict can say which model misread.
    """
    calls = result.usage["calls"] if result.usage else []
    seen = {("assistant" if c["node"] == ANSWERING_NODE else "mediator"): c["model"] for c in calls}
    return replace(
        models,
        mediator=models.mediator or seen.get("mediator", ""),
        assistant=models.assistant or seen.get("assistant", ""),
    )


def endpoint_command(program: str = "mediator") -> str:
    """The one command that runs this demo on a capable endpoint (a placeholder key)."""
    return (
        "OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_API_KEY=sk-... "
        f"MEDIATOR_MODEL=gpt-4o-mini MEDIATOR_ASSISTANT_MODEL=gpt-4o-mini {program} demo"
    )


def invoked_as(argv0: str | None = None) -> str:
    """How to type ``mediator`` again: as run (``.venv/bin/mediator``) if not on PATH.

    So the printed endpoint command can be pasted as is from where the demo ran;
    ``python -m langgraph_mediator.cli`` and anything else give ``mediator``.
    """
    path = Path(sys.argv[0] if argv0 is None else argv0)
    if path.name != "mediator":
        return "mediator"
    on_path = shutil.which("mediator")
    if on_path and Path(on_path).resolve() == path.resolve():
        return "mediator"
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    return str(path)


# --- the checks (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class TurnVerdict:
    """How one turn compares with the script, in lines to print."""

    number: int
    lines: tuple[str, ...]
    misread: bool = False
    """This turn's reading differs from the script's (its kind, or facts it got wrong)."""
    carried: bool = False
    """Values still wrong because an earlier turn was misread (this turn read right)."""
    wrong_answer: bool = False
    """The Assistant's final answer is not the script's."""
    stale: tuple[str, ...] = ()
    """Taken-back values still stated after the turn (labels of :class:`Fact`)."""
    missing: tuple[str, ...] = ()
    """Given facts no longer stated after the turn."""
    answered: tuple[str, ...] = ()
    """The numbers of cans the final answer named (for the summary)."""

    @property
    def ok(self) -> bool:
        """Nothing went wrong on this turn, nor is anything left wrong from before."""
        return not (self.misread or self.carried or self.wrong_answer)


# "one" is left out: "one can covers 10 m²" and "only one can left" are rarely the count asked.
_COUNT_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_CANS = re.compile(
    rf"(?<![\d.,])(\d+(?:\.\d+)?|\b(?:{'|'.join(_COUNT_WORDS)})\b)\s+"
    # up to two words between the number and "can" ("10 paint cans", "10 full cans"),
    # but not "per"/"a"/"each": "10 square metres per can" is the coverage, not a count.
    r"(?:(?!(?:per|a|an|each|every|one)\b)[A-Za-z-]+\s+){0,2}?cans?\b",
    re.IGNORECASE,
)


def cans_in(reply: str) -> tuple[str, ...]:
    """The numbers of cans a reply names, in order, once each ("ten" reads as ``10``)."""
    found = (m.group(1).lower() for m in _CANS.finditer(reply))
    return tuple(dict.fromkeys(_COUNT_WORDS.get(n, n) for n in found))


def carried_text(result: TurnResult) -> tuple[str, str]:
    """What the turn passes on, and its name: the instruction if the Assistant answered.

    The instruction is what the Assistant acts on, so it is what must be right;
    earlier answers it quotes are left out (they are the Assistant's words, not
    the user's). A turn that ended in a question has no new instruction, so its
    ledger (the requirements in force) is checked instead.
    """
    if result.kind == "answer":
        return without_answers(result.instruction), "the instruction"
    return "\n".join(r["text"] for r in result.requirements), "the ledger"


def _upper_first(text: str) -> str:
    # Not str.capitalize: it would lower "Mediator" and "135M" in the rest of the text.
    return text[:1].upper() + text[1:]


def listing(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: a list as a sentence says it."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def _quoted(labels: Sequence[str]) -> str:
    return listing([f"'{label}'" for label in labels])


def origin(label: str, earlier: Sequence[TurnVerdict]) -> int | None:
    """The turn a value still wrong goes back to, if the turn before already had it wrong.

    Such a value is not this turn's misreading: a right reading of "And I want
    two coats." does not undo a correction misread the turn before.
    """
    first = None
    for verdict in reversed(earlier):
        if label not in (*verdict.stale, *verdict.missing):
            break
        first = verdict.number
    return first


def reading_problems(
    expected: TurnExpectation,
    result: TurnResult,
    models: DemoModels,
    stale: Sequence[str],
    missing: Sequence[str],
) -> list[str]:
    """What this turn's reading got wrong, as plain sentences (none: it was right).

    The kind is checked with the substance, because a wrong kind matters by
    what it does to the ledger: a correction read as new information keeps the
    old value beside the new one. ``stale``/``missing``: this turn's own.
    """
    who = _upper_first(models.mediator_who)
    problems: list[str] = []
    feedback = result.delta["feedback"] if result.delta else "nothing (no reading)"
    _, where = carried_text(result)
    if feedback not in expected.feedback:
        problems.append(f"{who} read this as {feedback}; it is {expected.meaning}.")
    if stale:
        lead = "So " + where if problems else _upper_first(where)
        problems.append(f"{lead} still says {_quoted(stale)}, which the user took back.")
    if missing:
        problems.append(f"{_upper_first(where)} lacks {_quoted(missing)}, which the user gave.")
    if expected.answer and result.kind != "answer":
        problems.append(
            f"{who} asked a question on the last turn, though the task was "
            "fully given by then, so there is no answer to check."
        )
    if problems and result.usage and result.usage["fallback"]:
        # The reading was the Mediator's fallback, not the model's: say why.
        problems.append(
            f"(The model's reading could not be used: {result.usage['fallback']}; "
            "the Mediator kept the message verbatim instead.)"
        )
    return problems


def blame_reading(expected: TurnExpectation, models: DemoModels) -> str:
    """Whose misreading it is: the small embedded model's limit, or the named model's."""
    kinds = " or ".join(expected.feedback)
    if models.mediator_embedded:
        return (
            "This is the small model's limit, not the design's: a 135M model cannot reliably "
            "tell a correction from new information or judge what is missing. A capable "
            f"model is expected to read this turn as {kinds}; the hand-written capable "
            "readings of 32 corrections tasks (tests/fixtures/readings), replayed through "
            "this same graph, supersede the old value and leave only the latest."
        )
    return (
        f"The misreading is {models.mediator_who}'s: the graph applied the reading it was "
        f"given (expected: {kinds})."
    )


def carried_problems(
    result: TurnResult, inherited: dict[str, int], stale: Sequence[str], own: bool
) -> list[str]:
    """The values still wrong from an earlier misreading, each with the turn it goes back to."""
    if not inherited:
        return []
    _, where = carried_text(result)
    lines = [
        f"{_upper_first(where)} still {'says' if label in stale else 'lacks'} '{label}', "
        f"left from the misreading at turn {turn}."
        for label, turn in inherited.items()
    ]
    if not own:
        feedback = result.delta["feedback"] if result.delta else "-"
        lines.append(f"This turn itself was read as expected ({feedback}).")
    return lines


def answer_problems(
    expected: TurnExpectation, result: TurnResult, models: DemoModels, *, instruction_ok: bool
) -> tuple[list[str], tuple[str, ...]]:
    """What is wrong with the final answer (none: right or not checked), and the cans it named.

    A wrong answer to a right instruction is the Assistant's own mistake; to a
    wrong one it is at least partly the misreading's, and the lines say which.
    """
    if expected.answer is None or result.kind != "answer":
        return [], ()
    answered = cans_in(result.reply)
    right = expected.answer.cans
    if str(right) in answered:
        return [], answered
    said = f"says {listing(answered)} cans" if answered else "gives no number of cans"
    lines = [
        f"The Assistant's answer ({models.assistant_who}) {said}; the right answer is "
        f"{right} cans ({expected.answer.working})."
    ]
    if not instruction_ok:
        lines.append("The instruction it was given was already wrong (above).")
    elif models.assistant_embedded:
        lines.append(
            "The instruction was right, so this is the Assistant's own arithmetic: "
            "a 135M model cannot do it reliably."
        )
    else:
        lines.append(f"The instruction was right, so this is {models.assistant_who}'s mistake.")
    return lines, answered


def judge_turn(
    number: int,
    expected: TurnExpectation,
    result: TurnResult,
    models: DemoModels,
    earlier: Sequence[TurnVerdict] = (),
) -> TurnVerdict:
    """Compare turn ``number``'s result with what the script says it means.

    ``earlier``: the verdicts of the turns before, so a value left wrong by an
    earlier misreading is blamed on that turn, not on this one.
    """
    text, _ = carried_text(result)
    stale = tuple(f.label for f in expected.stale if f.found_in(text))
    missing = tuple(f.label for f in expected.needed if not f.found_in(text))
    inherited = {
        label: turn for label in (*stale, *missing) if (turn := origin(label, earlier)) is not None
    }
    own = reading_problems(
        expected,
        result,
        models,
        [s for s in stale if s not in inherited],
        [m for m in missing if m not in inherited],
    )
    carried = carried_problems(result, inherited, stale, bool(own))
    answer, answered = answer_problems(
        expected, result, models, instruction_ok=not (own or carried)
    )
    if not own and not carried and not answer:
        lines: tuple[str, ...] = (as_expected(expected, result),)
    else:
        lines = (*own, *([blame_reading(expected, models)] if own else []), *carried, *answer)
    return TurnVerdict(
        number,
        lines,
        misread=bool(own),
        carried=bool(carried),
        wrong_answer=bool(answer),
        stale=stale,
        missing=missing,
        answered=answered,
    )


def as_expected(expected: TurnExpectation, result: TurnResult) -> str:
    """The one line of a turn read as the script expects, naming what was checked."""
    feedback = result.delta["feedback"] if result.delta else "-"
    _, where = carried_text(result)
    line = f"Read as expected ({feedback})"
    if expected.needed:
        line += f"; {where} states {_quoted([f.label for f in expected.needed])}"
    if expected.stale:
        line += f" and no longer {_quoted([f.label for f in expected.stale])}"
    if expected.answer and result.kind == "answer":
        line += f"; the answer, {expected.answer.cans} cans, is right"
    return line + "."


def summary_lines(
    verdicts: Sequence[TurnVerdict],
    models: DemoModels,
    program: str,
    script: Sequence[TurnExpectation] = DEMO_SCRIPT,
) -> list[str]:
    """The closing lines: how many turns went as the script expects, and whose fault the rest was.

    On the embedded model they end with the one command that runs the same demo
    on a capable endpoint (with a placeholder key: no secret is ever printed).
    """
    misread = [str(v.number) for v in verdicts if v.misread]
    carried = [str(v.number) for v in verdicts if v.carried and not v.misread]
    wrong = [v for v in verdicts if v.wrong_answer]
    line = (
        f"Checked against the script: {sum(v.ok for v in verdicts)} of {len(verdicts)} "
        "turns as expected"
    )
    if misread:
        line += f"; turn {', '.join(misread)} misread by {models.mediator_who}"
    if carried:
        line += f"; turn {', '.join(carried)} still wrong from it"
    final = script[-1].answer
    if wrong and final:
        got = listing(wrong[-1].answered) or "no number of"
        line += f"; the final answer says {got} cans where {final.cans} is right"
    lines = [line + "."]
    went_wrong = bool(misread or carried or wrong)
    if not went_wrong:
        lines.append(
            "Every turn was read as the script expects"
            + (" and the final answer is right." if final else ".")
        )
    if models.any_embedded:
        why = ": what went wrong above is its limit, not the design's." if went_wrong else "."
        lines.append(
            f"The embedded 135M model shows the plumbing, not the quality{why} "
            "To run the same demo on a capable endpoint:"
        )
        lines.append(endpoint_command(program))
    return lines


def models_line(models: DemoModels) -> str:
    """Which model each of the two calls runs on, for the introduction."""
    if models.mediator_embedded and models.assistant_embedded:
        return (
            "Both calls run on the embedded 135M model (SmolLM2-135M-Instruct, llama.cpp "
            "on this machine's CPU)."
        )
    mediator = EMBEDDED if models.mediator_embedded else _name(models.mediator)
    assistant = EMBEDDED if models.assistant_embedded else _name(models.assistant)
    return f"The Mediator runs on {mediator}, the Assistant on {assistant}."


def intro_lines(models: DemoModels, script: Sequence[TurnExpectation] = DEMO_SCRIPT) -> list[str]:
    """What the demo shows, said before it starts."""
    correction = next((i for i, t in enumerate(script, 1) if "correction" in t.feedback), None)
    final = script[-1].answer
    lines = [
        f"A scripted {len(script)}-turn conversation gives a task one piece at a time"
        + (
            f', with a correction at turn {correction} ("{script[correction - 1].shard}").'
            if correction
            else "."
        ),
        "Each turn makes two model calls: the Mediator's reading (the intent, the feedback "
        "kind, the change to the requirement ledger), from which it writes one explicit "
        "instruction, and the Assistant's answer to that instruction. A turn that ends in "
        "a question makes only the first.",
        "Watch the ledger and the instruction. After each turn a check compares the reading "
        "with what the script knows the turn means"
        + (f"; the right final answer is {final.cans} cans." if final else "."),
        models_line(models),
    ]
    if models.any_embedded:
        lines.append(
            "A 135M model runs anywhere but often misreads; each misreading is "
            "called out as it happens."
        )
    return lines


# --- playing and printing ----------------------------------------------------------


async def play_demo(
    session: MediatorSession,
    thread_id: str,
    on_turn: Callable[[int, str, TurnResult], Awaitable[None] | None],
    shards: tuple[str, ...] = DEMO_SHARDS,
) -> list[TurnResult]:
    """Reveal ``shards`` one per turn on ``thread_id``; call ``on_turn`` after each."""
    results = []
    for number, shard in enumerate(shards, 1):
        result = await session.send(thread_id, shard)
        results.append(result)
        shown = on_turn(number, shard, result)
        if shown is not None:
            await shown
    return results


def print_verdict(console: Console, verdict: TurnVerdict) -> None:
    """A green line for a turn read as expected; a red panel saying plainly what went wrong."""
    if verdict.ok:
        console.print(Text.assemble(("check: ", "bold green"), (verdict.lines[0], "green")))
        return
    title = ", ".join(
        name
        for name, flag in (
            ("misread", verdict.misread),
            ("left wrong by an earlier misreading", verdict.carried),
            ("wrong answer", verdict.wrong_answer),
        )
        if flag
    )
    body = Text("\n".join(verdict.lines))
    console.print(Panel(body, title=f"check: {title}", title_align="left", border_style="red"))


async def present_demo(
    console: Console,
    session: MediatorSession,
    thread_id: str,
    models: DemoModels,
    *,
    program: str = "mediator",
    script: tuple[TurnExpectation, ...] = DEMO_SCRIPT,
) -> list[TurnVerdict]:
    """Say what the demo shows, play it with a check after each turn, then sum it up."""
    console.print(
        Panel(
            Text("\n".join(intro_lines(models, script))),
            title="mediator demo",
            title_align="left",
            border_style="blue",
        )
    )
    verdicts: list[TurnVerdict] = []

    def show(number: int, shard: str, result: TurnResult) -> None:
        console.rule(f"turn {number}")
        console.print(Text.assemble(("user> ", "bold"), shard))
        print_turn(console, result)
        nonlocal models
        models = named_by_calls(models, result)
        verdicts.append(judge_turn(number, script[number - 1], result, models, verdicts))
        print_verdict(console, verdicts[-1])

    results = await play_demo(session, thread_id, show, tuple(t.shard for t in script))
    calls = [c for r in results if r.usage for c in r.usage["calls"]]
    console.rule("done")
    console.print(
        f"{len(results)} turns, {len(calls)} model calls "
        f"({len(calls) / len(results):.1f} per turn), thread {thread_id}",
        markup=False,
        highlight=False,
    )
    summary = summary_lines(verdicts, models, program)
    style = "bold green" if all(v.ok for v in verdicts) else "bold red"
    console.print(Text(summary[0], style=style))
    for line in summary[1:]:
        console.print(Text(line), soft_wrap=line.startswith("OPENAI_BASE_URL="))
    return verdicts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator demo``."""
    parser.add_argument("--db", default=MEMORY, help="SQLite path or postgresql:// URL")
    parser.add_argument("--thread", default=None, help="thread id (default: a new one)")
    add_conversation_options(parser)


def demo_context(args: argparse.Namespace) -> MediatorContext:
    """The demo's context: the flags, and one task for the whole thread."""
    return context_from(args, single_task=True)


async def run(args: argparse.Namespace, console: Console) -> int:
    """Play the scripted conversation, show and check each turn."""
    context = demo_context(args)
    thread_id = args.thread or f"demo-{uuid.uuid4().hex[:8]}"
    async with open_persistence(args.db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)
        session = MediatorSession(graph, context)
        await present_demo(
            console, session, thread_id, describe_models(context), program=invoked_as()
        )
    return 0


COMMAND = Command(
    name="demo",
    help="play a scripted sharded conversation, checking each turn's reading",
    add_arguments=add_arguments,
    run=run,
    settings=demo_context,
)
