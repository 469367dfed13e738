"""What ``tests/unit/test_docs.py`` needs to run the documentation's code as written.

* :func:`python_blocks`: every fenced ``python`` block of README.md and
  docs/*.md, with the file and line it starts on;
* :func:`relative_links`: every relative Markdown link, to check it points at a file;
* :func:`respond`: a scripted OpenAI-compatible endpoint's replies (for
  :class:`openai_stub.OpenAIStub`) that play every model the snippets call: the
  Mediator (a valid ``MediatorReading`` built from the user's words), the
  Refiner's three structured calls, and any Assistant or agent model (a short
  text answer that quotes the task it was given);
* :func:`snippet_env`: the environment a snippet runs in, pointed at that endpoint,
  as a user's shell would be after ``export OPENAI_BASE_URL=... OPENAI_API_KEY=...``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai_stub import Reply, ToolCall, last_user_text, tool_name

from langgraph_mediator.core.prompts import message_in_prompt

ROOT = Path(__file__).resolve().parents[1]
SERVED_MODEL = "gpt-4o-mini"
"""What the stub lists at ``GET /v1/models``: an unset model name resolves to it."""
CLARIFYING_QUESTION = "Is 20 degrees in Celsius or Fahrenheit?"
LEARNED_GUIDELINE = (
    "Read a bare unit sent after an answer as a correction of the earlier unit, "
    "not as a confirmation."
)


def doc_files() -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int
    """The line of its opening fence (1-based)."""
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


def code_blocks(path: Path) -> Iterator[Block]:
    """Every fenced block of ``path`` (CommonMark fences, unindented content)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, start = opening["fence"], index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        language = (opening["info"].strip().split() or [""])[0].lower()
        yield Block(path, start + 1, language, "\n".join(body) + "\n")
        index += 1


def python_blocks() -> list[Block]:
    """Every ``python`` block of the documentation, in reading order."""
    return [b for path in doc_files() for b in code_blocks(path) if b.language in {"python", "py"}]


_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(number, line)`` of every line of ``path`` outside fenced code blocks."""
    in_code = {n for b in code_blocks(path) for n in range(b.line, b.line + b.code.count("\n") + 2)}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if number not in in_code:
            yield number, line


def relative_links(path: Path) -> list[tuple[int, str]]:
    """``(line, target)`` of every relative link of ``path`` (``#anchor`` ones included)."""
    found = []
    for number, line in prose_lines(path):
        for link in _LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", link["target"]):
                found.append((number, link["target"]))
    return found


def anchors(path: Path) -> set[str]:
    """The ``#anchor`` of every heading of ``path``, as GitHub makes them."""
    found = set()
    for _number, line in prose_lines(path):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading[1].lower())
            found.add(text.replace(" ", "-"))
    return found


# --- the scripted endpoint ------------------------------------------------------------------


def _said(body: dict[str, Any]) -> str:
    """The user's message inside the Mediator's turn prompt."""
    turn = last_user_text(body)
    return message_in_prompt(turn) or turn


def _last_requirement(turn: str) -> str | None:
    ids = re.findall(r"\[(R\d+)\]", turn)
    return ids[-1] if ids else None


def mediator_reading(body: dict[str, Any]) -> ToolCall:
    """A valid reading of the turn, as a capable Mediator would give it for these snippets.

    The first message of a thread starts a task; "no, ..." or "actually, ..."
    corrects the last requirement; "degrees" with no unit named is missing its
    unit (a question); anything else adds what it says.
    """
    turn = last_user_text(body)
    message = _said(body).strip()
    first = "Current task (none)" in turn
    reading: dict[str, Any] = {
        "task_type": "general", "goal": message if first else "",
        "feedback": "new_task" if first else "new_information",
        "new_requirements": [message], "changes": [], "missing_information": [],
        "clarifying_question": "",
    }  # fmt: skip
    corrected = _last_requirement(turn)
    if not first and corrected and re.match(r"(?i)^(no|actually)\b", message):
        replacement = re.sub(r"(?i)^(no|actually)[,.!]?\s*", "", message) or message
        reading.update(feedback="correction", new_requirements=[], changes=[{
            "requirement_id": corrected, "action": "supersede",
            "replacement": replacement[:1].upper() + replacement[1:], "reason": "the user said so",
        }])  # fmt: skip
    elif "degrees" in message and not re.search(r"(?i)celsius|fahrenheit|kelvin", message):
        reading.update(missing_information=["the unit of the input"],
                       clarifying_question=CLARIFYING_QUESTION)  # fmt: skip
    return ToolCall("MediatorReading", reading)


def refiner_reply(name: str, body: dict[str, Any]) -> ToolCall:
    """The Refiner's structured calls: one misreading, one rule, the set merged as it is."""
    if name == "Diagnosis":
        return ToolCall("Diagnosis", {"misreadings": [{
            "kind": "correction_not_applied", "turn": 2, "evidence": "in Kelvin",
            "explanation": "The Mediator kept the old unit after the user named a new one.",
            "habit": "corrects with a bare value and no marker",
        }]})  # fmt: skip
    if name == "Proposal":
        return ToolCall("Proposal", {"guidelines": [{"text": LEARNED_GUIDELINE, "diagnosis": 1}]})
    rules = re.findall(r"^([GP]\d+): (.+)$", last_user_text(body), re.MULTILINE)
    return ToolCall("MergedSet", {"guidelines": [{"text": t, "sources": [i]} for i, t in rules]})


def answer(body: dict[str, Any]) -> str:
    """The Assistant's (or an agent model's) answer: it names the task it was given."""
    task = next((line for line in last_user_text(body).splitlines() if line.strip()), "")
    task = task.removeprefix("Task: ").strip() or "the request"
    return f"Done: {task[:120]}"


def respond(body: dict[str, Any]) -> Reply:
    """Play every model the documentation's snippets call."""
    name = tool_name(body)
    if name == "MediatorReading":
        return mediator_reading(body)
    if name in {"Diagnosis", "Proposal", "MergedSet"}:
        return refiner_reply(name, body)
    return answer(body)


def snippet_env(base_url: str, home: Path) -> dict[str, str]:
    """The shell a reader runs a snippet from: their endpoint and key set, no tracing.

    Model, endpoint, tracing and auth settings of the developer's own shell are
    left out; ``XDG_DATA_HOME`` keeps the package's default files under ``home``.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MEDIATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_",
                                "LANGGRAPH_"))}  # fmt: skip
    env.update(
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-stub",
        LANGSMITH_TRACING="false",
        XDG_DATA_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    return env
