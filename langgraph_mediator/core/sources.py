"""The user's own words behind each requirement, and the facts a reading dropped.

A reading is the model's paraphrase; a paraphrase can drift (a number lost, a
name changed). So every requirement keeps the sentence of the user's message
it was read from (:func:`source_of`), and a fact of the message that no part
of the reading carries is kept in the user's words (:func:`dropped_facts`).
Both are chosen by rule from the message itself, never written by the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from langgraph_mediator.facts import Fact, FactIndex, extract_facts
from langgraph_mediator.text import content_words

SOURCE_CHARS = 500
"""Longest source kept with a requirement (a longer sentence is cut)."""

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (at ``.!?;`` followed by a space, and at line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _overlap(requirement: str, sentence: str) -> int:
    shared_words = len(content_words(requirement) & content_words(sentence))
    index = FactIndex(sentence)
    shared_facts = sum(index.carries(f) for f in extract_facts(requirement))
    return shared_words + 2 * shared_facts


def source_of(requirement: str, message: str) -> str:
    """The sentence of ``message`` that ``requirement`` was most likely read from.

    A message of one sentence is its own source; otherwise the sentence that
    shares the most facts and content words (the first on a tie).
    """
    parts = sentences(message) or [message.strip()]
    best = max(parts, key=lambda sentence: _overlap(requirement, sentence))
    return best[:SOURCE_CHARS]


def dropped_facts(message: str, carried_by: Iterable[str]) -> list[tuple[Fact, str]]:
    """The facts of ``message`` none of ``carried_by`` states, each with its sentence."""
    carriers = [FactIndex(text) for text in carried_by]
    dropped: list[tuple[Fact, str]] = []
    for sentence in sentences(message):
        for fact in extract_facts(sentence):
            if not any(index.carries(fact) for index in carriers):
                dropped.append((fact, sentence))
    return dropped
