"""What an assistant turn does: answer, ask, discuss, hedge or refuse (rule-based).

The paper's analysis of why models get lost rests on these: premature answer
attempts, clarifications, and hedged answers that cover several readings.
"""

from __future__ import annotations

import re
from typing import Literal

from langgraph_mediator.evals.checkers import extract_code, extract_sql, final_number, parse_calls

Strategy = Literal["answer_attempt", "clarification", "discussion", "hedge", "refuse"]

_REFUSALS = re.compile(
    r"\b(i can(?:not|'t) (?:help|assist|do)|i(?:'m| am) (?:unable|not able) to|i won't)\b",
    re.IGNORECASE,
)
_HEDGES = re.compile(
    r"\b(if you mean|if you meant|alternatively|depending on (?:whether|what|which)|"
    r"option [12ab]\b|if instead)\b",
    re.IGNORECASE,
)

_MARKED_ANSWER = re.compile(r"####|\\boxed|answer is", re.IGNORECASE)


def carries_answer(text: str, family: str) -> bool:
    """Whether the reply holds something the family's checker could score."""
    if family == "code":
        code = extract_code(text)
        return code is not None and "def " in code
    if family == "math":
        # A question quoting the user's numbers ("one coat or 2 coats?") is not an answer.
        return final_number(text) is not None and not (
            text.rstrip().endswith("?") and not _MARKED_ANSWER.search(text)
        )
    if family == "actions":
        return bool(parse_calls(text))
    if family == "database":
        return extract_sql(text) is not None
    return len(text.split()) >= 8 and not text.rstrip().endswith("?")


def classify_strategy(text: str, family: str) -> Strategy:
    """Classify one assistant reply for a task of ``family``."""
    if not text.strip():
        return "discussion"
    if _REFUSALS.search(text) and not carries_answer(text, family):
        return "refuse"
    if carries_answer(text, family):
        return "hedge" if _HEDGES.search(text) else "answer_attempt"
    if "?" in text:
        return "clarification"
    return "discussion"
