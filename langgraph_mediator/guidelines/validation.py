"""What may become a guideline: the Refiner's output validator.

Trajectories are user data. A message inside one that says "ignore previous
instructions", or tries to plant a rule about other users, secrets, tools or
the system itself, must not become a guideline. Guidelines may only shape how
the Mediator interprets *this* user's intent; anything else is rejected here,
whatever the model proposed.
"""

from __future__ import annotations

import re

from langgraph_mediator.state.refiner import GUIDELINE_MAX_CHARS
from langgraph_mediator.text import FENCE_CLOSE, FENCE_OPEN

MIN_CHARS = 12
MIN_WORDS = 3

_FORBIDDEN: tuple[tuple[str, str], ...] = (
    (r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rule|prompt|guideline|polic)",
     "tries to override instructions"),
    (r"\b(system|developer|hidden)\s+(prompt|message|instruction)", "targets the system prompt"),
    (r"\b(reveal|disclose|print|leak|exfiltrat|send|share|expose)\w*\b.{0,60}"
     r"\b(prompt|secret|password|key|token|credential|guideline|data|history)",
     "asks to reveal information"),
    (r"\b(secret|password|passwd|api[\s_-]?key|access[\s_-]?token|credential|private key)",
     "mentions secrets"),
    (r"\b(other|another|all|every|any)\s+(user|users|customer|account|person|people)\b",
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


def guideline_problem(text: str) -> str | None:
    """Why ``text`` may not be a guideline, or ``None`` if it may."""
    stripped = " ".join(text.split())
    if len(stripped) < MIN_CHARS or len(stripped.split()) < MIN_WORDS:
        return "too short to be a rule"
    if len(stripped) > GUIDELINE_MAX_CHARS:
        return f"longer than {GUIDELINE_MAX_CHARS} characters"
    if FENCE_OPEN in stripped or FENCE_CLOSE in stripped:
        return "contains fenced trajectory text"
    for pattern, why in _COMPILED:
        if pattern.search(stripped):
            return why
    return None
