"""Text helpers both graphs share: fencing untrusted text, masking secrets, one comparison key.

Every piece of untrusted text (user messages, the Assistant's last answer, tool
output, trajectories, simulator and judge inputs) reaches a prompt through
:func:`fence`, which wraps it in ``<<<`` and ``>>>`` after neutralising any run
of three or more angle brackets inside it, look-alike and full-width ones
included. A fenced field therefore opens and closes exactly once, whatever the
text holds; a Python doctest prompt ``>>>`` reaches the model as ``>·>·>``.
"""

from __future__ import annotations

import re
import unicodedata

FENCE_OPEN = "<<<"
FENCE_CLOSE = ">>>"

_OPENING = "<‹«〈《＜⟨❮❬˂﹤⧼⟪ᐸ"
_CLOSING = ">›»〉》＞⟩❯❭˃﹥⧽⟫ᐳ"
_BRACKET = f"[{re.escape(_OPENING + _CLOSING)}]"
_GAP = "[\\s\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]*"
"""What may stand between brackets and still read as one marker: spaces, invisible characters."""
_ANGLE_RUN = re.compile(f"{_BRACKET}(?:{_GAP}{_BRACKET}){{2,}}")
_TO_ASCII = str.maketrans({**dict.fromkeys(_OPENING, "<"), **dict.fromkeys(_CLOSING, ">")})


_SEPARATOR = "\u00b7"
"""The visible middle dot that breaks up a neutralised run: ``>>>`` becomes ``>·>·>``."""
_EDGE_START = re.compile(f"^{_GAP}{_BRACKET}")
_EDGE_END = re.compile(f"{_BRACKET}{_GAP}$")
_ONLY_GAP = re.compile(_GAP)


def _broken_up(match: re.Match[str]) -> str:
    brackets = [c for c in match.group(0).translate(_TO_ASCII) if c in "<>"]
    return _SEPARATOR.join(brackets)


def neutralise(text: str) -> str:
    """``text`` with every run of three or more angle brackets broken up (``>·>·>``).

    Runs broken by white space or invisible characters, and look-alike or
    full-width brackets, count too: to a model they read as the fence's markers.
    """
    return _ANGLE_RUN.sub(_broken_up, unicodedata.normalize("NFC", text))


def fence(text: str) -> str:
    """Wrap untrusted text as data; fence markers (and look-alikes) inside it are neutralised.

    Text that starts or ends with a bracket gets a middle dot there, so it
    cannot run into the fence's own markers (``<<<<``).
    """
    inner = neutralise(text)
    if _ONLY_GAP.fullmatch(inner):
        inner += _SEPARATOR  # an empty field must not read as "<<<>>>", one long run
    elif _EDGE_START.match(inner):
        inner = _SEPARATOR + inner
    if _EDGE_END.search(inner):
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
