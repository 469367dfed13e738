"""The checkable facts of a text: numbers, quoted strings, identifiers and proper names.

Deterministic, so one extractor serves both the turn's safeguard (a fact the
reading dropped is kept in the user's own words) and the evaluation's
instruction fidelity (which facts of the shards the final instruction carries,
which stale ones it still holds, which it invented). Paraphrase may change
every other word; these are the words a correct answer depends on.

* numbers: ``12``, ``$2.50``, ``15%``, ``1,200``, ``3:30``, ``2024-05-01``, and
  the number words two to ninety ("two more hours" carries 2);
* quoted strings: the text inside ``"..."``, ``'...'``, backticks or curly quotes;
* identifiers: ``running_max``, ``camelCase``, ``os.path``, ``B12``;
* proper names: capitalised words inside a sentence (``Lisbon``, ``Celsius``)
  and short all-capital words (``USD``), less a few that are not facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

FactKind = Literal["number", "quoted", "identifier", "name"]

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
""""one" is left out: as a word it is more often an article ("one function") than a count."""

_NOT_NAMES = frozenset((
    "i", "ok", "okay", "am", "pm", "ai", "api", "json", "sql", "url", "id", "ids", "yes", "no",
    "hi", "hey", "thanks", "please", "i'm", "i’m", "i'll", "i’ll", "i'd", "i’d", "i've", "i’ve",
))  # fmt: skip
"""Capitalised or all-capital words that say nothing checkable."""

_LIST_MARKER = re.compile(r"^[ \t]*(?:\d+[.)]|[-*•])[ \t]+", re.MULTILINE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)[\[(\"“‘']?$")
_FACT = re.compile(
    r"(?P<date>(?<![\w.])\d{4}-\d{2}(?:-\d{2})?(?![\w]))"
    r"|(?P<time>(?<![\w.:])\d{1,2}:\d{2}(?![\w:]))"
    r"|(?P<number>(?<![\w.,])[-−]?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?(?![\d]))"
    r"|(?P<quoted>(?<![\w])[\"“`'‘](?P<inner>[^\"“”`'‘’\n]{1,80})[\"”`'’](?![\w]))"
    r"|(?P<identifier>\b(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|_[A-Za-z0-9_]+"
    r"|[a-z]+[A-Z][A-Za-z0-9]*|[a-z_]{2,}(?:\.[a-z_]{2,})+|[A-Za-z]+\d+[A-Za-z0-9]*)\b)"
    r"|(?P<word>\b[A-Za-z][a-z]*(?:['’][a-z]+)?\b|\b[A-Z]{2,5}\b)"
)


@dataclass(frozen=True)
class Fact:
    """One fact: its kind, its normalised value (what must match) and how it was written."""

    kind: FactKind
    value: str
    text: str


def _number_value(raw: str) -> str:
    """``$1,200.50`` and ``1200.5`` share the value ``1200.5``; ``15%`` is ``15``."""
    digits = raw.replace("−", "-").replace("$", "").replace(",", "").rstrip("%")
    try:
        value = Decimal(digits).normalize()
    except InvalidOperation:
        return digits
    return format(value, "f")


def _is_sentence_start(text: str, position: int) -> bool:
    return bool(_SENTENCE_START.search(text[max(0, position - 4) : position]))


def _word_fact(text: str, match: re.Match[str]) -> Fact | None:
    word = match.group("word")
    lowered = word.lower()
    if lowered in _NUMBER_WORDS:
        return Fact("number", str(_NUMBER_WORDS[lowered]), word)
    if lowered in _NOT_NAMES or word.islower():
        return None
    if word.isupper() and len(word) >= 2:
        return Fact("name", lowered, word)
    if _is_sentence_start(text, match.start()):
        return None
    return Fact("name", lowered, word)


def _fact_of(text: str, match: re.Match[str]) -> Fact | None:
    for kind in ("date", "time"):
        if match.group(kind):
            return Fact("number", match.group(kind), match.group(kind))
    if match.group("number"):
        return Fact("number", _number_value(match.group("number")), match.group("number"))
    if match.group("quoted"):
        inner = " ".join(match.group("inner").split())
        return Fact("quoted", inner.lower(), inner) if inner else None
    if match.group("identifier"):
        return Fact("identifier", match.group("identifier").lower(), match.group("identifier"))
    return _word_fact(text, match)


def _scan(text: str) -> Iterator[Fact]:
    cleaned = _LIST_MARKER.sub("", text)
    for match in _FACT.finditer(cleaned):
        fact = _fact_of(cleaned, match)
        if fact is not None:
            yield fact


CACHED_TEXT_CHARS = 2000
"""Texts up to this length have their facts kept (requirements and sentences, read every turn)."""


@lru_cache(maxsize=4096)
def _scan_cached(text: str) -> tuple[Fact, ...]:
    return tuple(_scan(text))


def _facts_in(text: str) -> Iterable[Fact]:
    # Every turn re-reads the whole ledger's facts; the ledger rarely changes, so keep them.
    return _scan_cached(text) if len(text) <= CACHED_TEXT_CHARS else _scan(text)


def extract_facts(text: str) -> list[Fact]:
    """The facts of ``text``, each once, in the order they first appear.

    List markers at the start of a line ("1.", "-") are not numbers.
    """
    return facts_of_all([text])


def _values(text: str) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in extract_facts(text)}


def _as_term(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(value)}(?![\w])", re.IGNORECASE)


_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|of|de|la))+\b")


def _initialisms(text: str) -> set[str]:
    """What the runs of capitalised words of ``text`` abbreviate to ("New York City": nyc, ny)."""
    found: set[str] = set()
    for run in _CAPITALISED_RUN.finditer(text):
        initials = "".join(word[0] for word in run.group().split() if word[0].isupper())
        for start in range(len(initials)):
            for end in range(start + 2, min(len(initials), start + 5) + 1):
                found.add(initials[start:end].lower())
    return found


class FactIndex:
    """One text's facts, ready for many :meth:`carries` questions."""

    def __init__(self, text: str) -> None:
        """Extract the facts of ``text`` once."""
        self.text = text
        self.values = _values(text)
        self.numbers = {v for k, v in self.values if k == "number"}
        self._initialisms: set[str] | None = None

    def carries(self, fact: Fact) -> bool:
        """Whether the text states ``fact``: the same number, or the same words anywhere.

        An abbreviation is carried by the words it abbreviates ("NYC" by "New
        York City"), so a reading that spells it out loses nothing.
        """
        if fact.kind == "number":
            return fact.value in self.numbers
        if (fact.kind, fact.value) in self.values or _as_term(fact.value).search(self.text):
            return True
        if fact.kind == "name" and fact.text.isupper():
            if self._initialisms is None:
                self._initialisms = _initialisms(self.text)
            return fact.value in self._initialisms
        return False


def declared_fact(value: str) -> Fact:
    """The fact a task declares by value ("Denver", "commas", "2026-03"), taken whole.

    Extraction reads a value in context (a sentence's first word is no name, a
    lower-case word is no fact), but a declared value is a fact by declaration:
    it is the extracted fact when that is the whole value, else the value as a
    whole term.
    """
    value = " ".join(value.split())
    found = extract_facts(value)
    if len(found) == 1 and found[0].text.lower() in (value.lower(), value.lower().lstrip("$")):
        return found[0]
    return Fact("name", value.lower(), value)


def carries(text: str, fact: Fact) -> bool:
    """Whether ``text`` states ``fact`` (see :meth:`FactIndex.carries`)."""
    return FactIndex(text).carries(fact)


def facts_of_all(texts: Iterable[str]) -> list[Fact]:
    """The facts of several texts, each once, in the order they first appear."""
    found: dict[tuple[str, str], Fact] = {}
    for text in texts:
        for fact in _facts_in(text):
            found.setdefault((fact.kind, fact.value), fact)
    return list(found.values())
