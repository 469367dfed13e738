"""Text helpers both graphs share: fencing untrusted text, masking secrets, one comparison key.

Every piece of untrusted text (user messages, the Assistant's last answer, tool
output, trajectories, simulator and judge inputs) reaches a prompt through
:func:`fence`, which wraps it in ``<<<`` and ``>>>`` after neutralising any run
of three or more angle brackets inside it. Runs are counted the way a reader (a
model) sees the text:

* look-alike, full-width and compatibility brackets (``›``, ``＞``, ``﹀``) count
  as ``<`` or ``>``, and so does a bracket with a combining mark on it (``≯``);
* a symbol that shows several brackets counts as that many: ``≫``, ``»`` and
  ``《`` as two, ``⋙`` and ``⫸`` as three;
* what cannot be seen between two brackets joins them rather than breaking the
  run: white space, control and format characters (Unicode category C, private
  use aside), combining marks (M), variation selectors, tag characters, and
  letters that render blank (the Hangul fillers, the braille blank, the
  Mongolian free variation selectors).

A run becomes ASCII brackets joined by middle dots (``≫>`` becomes ``>·>·>``),
whatever was invisible in it dropped. The rest of the text is only
NFC-normalised, which keeps what it says.
A fenced field therefore opens and closes exactly once, whatever the text holds;
a Python doctest prompt ``>>>`` reaches the model as ``>·>·>``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator

FENCE_OPEN = "<<<"
FENCE_CLOSE = ">>>"

# ≮ ≯ are what NFC makes of a bracket carrying U+0338, and ︿ ﹀ ︽ ︾ the vertical presentation
# forms of 〈 〉 《 》. With them, every character whose NFKC form (combining marks aside) is a
# bracket is listed, so NFKC is needed only to choose these lists, never on the text: applied to
# the text it would also rewrite ordinary characters (ﬁ, ², ™, full-width letters).
_OPENING = "<‹〈＜⟨❮❬˂﹤⧼ᐸ≮︿"
_CLOSING = ">›〉＞⟩❯❭˃﹥⧽ᐳ≯﹀"
# Symbols drawn as two or three brackets count as that many: "≫>" shows ">>>" as plainly
# as ">>>" does. Guillemets count as two as well: » is drawn like ≫ (in many fonts identically),
# so "»>" shows three chevrons just as "≫>" does. A lone one stays below the three of a marker,
# so quotations (« bonjour », »Hallo«, 《三体》) pass untouched; only a guillemet touching
# another bracket, which does show three chevrons (a nested quotation closing "› »"), is broken.
_DOUBLE_OPENING = "«《⟪≪⪡︽"
_DOUBLE_CLOSING = "»》⟫≫⪢︾"
_TRIPLE_OPENING = "⋘⫷"
_TRIPLE_CLOSING = "⋙⫸"


def _showing(count: int, opening: str, closing: str) -> dict[str, str]:
    return {**dict.fromkeys(opening, "<" * count), **dict.fromkeys(closing, ">" * count)}


_SHOWN_AS = (
    _showing(1, _OPENING, _CLOSING)
    | _showing(2, _DOUBLE_OPENING, _DOUBLE_CLOSING)
    | _showing(3, _TRIPLE_OPENING, _TRIPLE_CLOSING)
)
"""Each bracket-like character and the ASCII brackets a reader sees in it."""
_BRACKETS = frozenset(_SHOWN_AS)
_ANY_BRACKET = re.compile(f"[{re.escape(''.join(_SHOWN_AS))}]")
_TO_ASCII = str.maketrans(_SHOWN_AS)

# Unassigned characters count as unseen too: a newer Unicode may have made them invisible.
# Spacing accents (´ ¨) are seen, so they still break a run.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Cs", "Mn", "Mc", "Me", "Zs", "Zl", "Zp"})
_BLANK_CHARACTERS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
)
"""Characters that render as nothing, whatever category this Python's Unicode gives them."""
_IGNORABLE_BLOCK = range(0xE0000, 0xE1000)
"""Tags and supplementary variation selectors: default-ignorable, assigned or not."""

_SEPARATOR = "\u00b7"
"""The visible middle dot that breaks up a neutralised run: ``>>>`` becomes ``>·>·>``."""


@functools.cache
def _is_unseen(char: str) -> bool:
    return (
        unicodedata.category(char) in _UNSEEN_CATEGORIES
        or char in _BLANK_CHARACTERS
        or ord(char) in _IGNORABLE_BLOCK
    )


def _first_seen(chars: Iterable[str]) -> str:
    """The first character a reader would see, or "" when there is none."""
    return next((c for c in chars if not _is_unseen(c)), "")


def _bracket_runs(text: str) -> Iterator[tuple[int, int, str]]:
    """Where each run of brackets (nothing seen between them) starts and ends, and its brackets."""
    start = end = 0
    brackets: list[str] = []
    for match in _ANY_BRACKET.finditer(text):
        if not (brackets and all(map(_is_unseen, text[end : match.start()]))):
            if brackets:
                yield start, end, "".join(brackets)
            start, brackets = match.start(), []
        brackets.append(match.group())
        end = match.end()
    if brackets:
        yield start, end, "".join(brackets)


def neutralise(text: str) -> str:
    """``text`` with every run of three or more angle brackets broken up (``>·>·>``).

    Runs broken by white space or invisible characters, look-alike or full-width
    brackets, and symbols showing several brackets (``≫>``, ``⋙``) count too: to
    a model they read as the fence's markers.
    """
    # NFC keeps the text's meaning; it composes ">" + U+0338 into "≯", one bracket to find.
    text = unicodedata.normalize("NFC", text)
    pieces: list[str] = []
    kept_up_to = 0
    for start, end, brackets in _bracket_runs(text):
        shown = brackets.translate(_TO_ASCII)
        if len(shown) >= 3:
            pieces += (text[kept_up_to:start], _SEPARATOR.join(shown))
            kept_up_to = end
    return "".join(pieces) + text[kept_up_to:]


def _starts_with_mark(text: str) -> bool:
    return unicodedata.category(text[:1] or " ").startswith("M")


def fence(text: str) -> str:
    """Wrap untrusted text as data; fence markers (and look-alikes) inside it are neutralised.

    Text that starts or ends with a bracket, seen past any invisible characters,
    gets a middle dot there, so it cannot run into the fence's own markers
    (``<<<<``); so does text with nothing visible, which would read ``<<<>>>``.
    """
    inner = neutralise(text)
    first, last = _first_seen(inner), _first_seen(reversed(inner))
    if first in _BRACKETS or _starts_with_mark(inner):  # a leading mark would sit on our "<"
        inner = _SEPARATOR + inner
    if last in _BRACKETS or not last:
        inner += _SEPARATOR
    return FENCE_OPEN + inner + FENCE_CLOSE


_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s/:@]*):[^\s/@]*@", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd|api[_-]?key|key|token|access_token|secret)=)[^&\s#]*",
    re.IGNORECASE,
)
REDACTED = "***"


def redact_secrets(text: str) -> str:
    """``text`` with the passwords and keys of any URLs in it masked, for printing and logs.

    ``postgresql://user:pw@host/db`` becomes ``postgresql://user:***@host/db``,
    and ``?api_key=...`` becomes ``?api_key=***``.
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{REDACTED}@", text)
    return _SECRET_PARAM.sub(lambda m: m.group("head") + REDACTED, text)


def comparison_key(text: str) -> str:
    """What two texts must share to count as the same rule or requirement.

    Case, runs of whitespace and final punctuation are ignored.
    """
    return re.sub(r"[\s.;:!]+$", "", " ".join(text.lower().split()))


_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset((
    "a", "an", "the", "of", "to", "for", "in", "on", "at", "by", "with", "and", "or", "is",
    "are", "be", "it", "its", "this", "that", "these", "those", "what", "which", "who", "whom",
    "whose", "how", "many", "much", "do", "does", "did", "you", "your", "could", "would",
    "should", "can", "please", "tell", "me", "us", "we", "our", "i", "my", "there", "any",
    "anything", "else", "know", "before", "start", "want", "need", "give", "let", "like",
    "about", "from", "as", "so", "if", "also", "just", "one", "some", "into", "onto", "than",
    "then",
))  # fmt: skip


def content_words(text: str) -> set[str]:
    """The words that say what a text is about: lower case, plural ``s`` dropped, no filler."""
    words = {w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(text.lower())}
    return words - _FILLER


_ACKNOWLEDGEMENT_WORDS = frozenset(
    [
        "ok",
        "okay",
        "k",
        "kk",
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "right",
        "alright",
        "fine",
        "great",
        "good",
        "perfect",
        "cool",
        "thanks",
        "thank",
        "you",
        "thx",
        "that",
        "that's",
        "thats",
        "it",
        "is",
        "all",
        "sounds",
        "looks",
        "go",
        "on",
        "continue",
        "got",
        "noted",
        "correct",
        "exactly",
        "please",
        "done",
        "nice",
    ]
)
ACKNOWLEDGEMENT_MAX_WORDS = 6


def is_acknowledgement(text: str) -> bool:
    """Whether ``text`` only acknowledges ("ok", "yep, that's right", "sounds good, thanks").

    Such a message carries no requirement: it accepts, or waits for more.
    A number, a name or any other word makes it something more.
    """
    words = re.findall(r"[a-z0-9']+", text.lower())
    return 0 < len(words) <= ACKNOWLEDGEMENT_MAX_WORDS and all(
        w in _ACKNOWLEDGEMENT_WORDS for w in words
    )
