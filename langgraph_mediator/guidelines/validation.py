"""What may become a guideline: the Refiner's output validator.

Trajectories are user data. A message inside one that says "ignore previous
instructions", or tries to plant a rule about other users, secrets, tools or
the system itself, must not become a guideline. Guidelines may only shape how
the Mediator interprets *this* user's intent; anything else is rejected here,
whatever the model proposed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from langgraph_mediator.facts import extract_facts, facts_of_all
from langgraph_mediator.state.refiner import GUIDELINE_MAX_CHARS
from langgraph_mediator.text import FENCE_CLOSE, FENCE_OPEN, neutralise

MIN_CHARS = 12
MIN_WORDS = 3

_FORBIDDEN: tuple[tuple[str, str], ...] = (
    # "Never ignore a value the user gave" keeps the user's words: only an unnegated verb overrides.
    (r"(?<!\bnever )(?<!\bnot )(?<!\bdon't )(?<!\bdon’t )"
     r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rule|prompt|guideline|polic)",
     "tries to override instructions"),
    (r"\b(system|developer|hidden)\s+(prompt|message|instruction)", "targets the system prompt"),
    # "the user shares data" is how a user speaks, not a leak: the verb's subject is the user.
    (r"(?<!\buser )(?<!\bthey )\b(reveal|disclose|print|leak|exfiltrat|send|share|expose)\w*\b"
     r".{0,60}\b(prompt|secret|password|key|token|credential|guideline|data|history)",
     "asks to reveal information"),
    (r"\b(secret|password|passwd|api[\s_-]?key|access[\s_-]?token|credential|private key)",
     "mentions secrets"),
    # "any user message" is about this user's messages; "any user" is about other people.
    (r"\b(other|another|all|every|any)\s+(user|users|customer|account|person|people)\b"
     r"(?!['’]?s?\s+(message|messages|turn|turns|reply|replies|input|answer|answers|word|words)\b)",
     "concerns other users"),
    (r"\buser[\s_-]?id\b", "concerns user identities"),
    (r"\b(tool|function call|shell|command line|execute code|run code|eval\(|subprocess|sudo)\b",
     "changes tool use"),
    (r"https?://|www\.|\b\w+\.(com|net|org|io|ru|xyz)\b", "contains a link"),
    (r"\b(jailbreak|developer mode|dan mode|unrestricted|no restrictions|bypass|disable)\b",
     "tries to change system behaviour"),
    (r"\b(always|never)\s+(answer|reply|respond|say|output)\s+(with|only)\b",
     "dictates the Assistant's output"),
)  # fmt: skip
_COMPILED = tuple((re.compile(p, re.IGNORECASE | re.DOTALL), why) for p, why in _FORBIDDEN)


def task_facts(texts: Iterable[str]) -> frozenset[tuple[str, str]]:
    """The numbers, names, quoted strings and identifiers of ``texts`` (a run's trajectories)."""
    return frozenset((f.kind, f.value) for f in facts_of_all(texts))


def trajectory_facts(pairs: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """:func:`task_facts` of every text of a Refiner run's trajectory pairs (as sent)."""
    texts: list[str] = []
    for pair in pairs:
        for side in (pair.get("failed"), pair.get("successful")):
            for turn in (side or {}).get("turns", []) if isinstance(side, Mapping) else []:
                texts += [str(turn.get(k, "")) for k in ("user", "instruction", "answer")]
        texts.append(str(pair.get("reference_instruction") or ""))
    return task_facts(texts)


def guideline_problem(text: str, facts: frozenset[tuple[str, str]] = frozenset()) -> str | None:
    """Why ``text`` may not be a guideline, or ``None`` if it may.

    ``facts`` are the trajectories' own (:func:`task_facts`): a rule that
    repeats one is about one task, not about how to read this user.
    """
    stripped = " ".join(text.split())
    if len(stripped) < MIN_CHARS or len(stripped.split()) < MIN_WORDS:
        return "too short to be a rule"
    if len(stripped) > GUIDELINE_MAX_CHARS:
        return f"longer than {GUIDELINE_MAX_CHARS} characters"
    if has_fence_marker(stripped):
        return "contains fenced trajectory text"
    for pattern, why in _COMPILED:
        if pattern.search(stripped):
            return why
    if not facts:
        return None  # rules read for the Mediator's prompt, every turn: no extraction needed
    reused = [f.text for f in extract_facts(stripped) if (f.kind, f.value) in facts]
    if reused:
        return f"repeats facts of one task ({', '.join(reused[:3])}): a rule is about the user"
    return None


def has_fence_marker(text: str) -> bool:
    """Whether ``text`` holds a fence marker (``<<<``, ``>>>``) or anything that reads as one.

    :func:`~langgraph_mediator.text.neutralise` decides what reads as one
    (look-alike brackets, runs broken by spaces or invisible characters), so
    the validator refuses exactly what a prompt's fence would have to break up.
    """
    if FENCE_OPEN in text or FENCE_CLOSE in text:
        return True
    # neutralise also NFC-normalises: compare with the normalised text so only brackets count.
    return neutralise(text) != unicodedata.normalize("NFC", text)


def stored_rule_problem(
    text: object, facts: frozenset[tuple[str, str]] = frozenset()
) -> str | None:
    """Why ``text`` may not be stored, or read into a prompt, as a guideline; ``None`` if it may.

    :func:`guideline_problem` measures a rule with its white space collapsed;
    what is stored is held to the cap as it stands, so padding cannot carry a
    long text past it.
    """
    if not isinstance(text, str):
        return "is not text"
    if len(text) > GUIDELINE_MAX_CHARS:
        return f"longer than {GUIDELINE_MAX_CHARS} characters ({len(text)})"
    return guideline_problem(text, facts)


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks included) made one space.

    Rules are listed one per line in the Mediator's prompt: a line break inside
    one could pass for a new section of it.
    """
    return " ".join(text.split())
