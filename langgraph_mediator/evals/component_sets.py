"""The labeled sets of the component evals, and their loaders.

Two hand-authored JSONL files shipped in :mod:`langgraph_mediator.evals.datasets`:

* ``feedback_classification.jsonl``: one :class:`FeedbackItem` a line, a
  follow-up message labeled ``correction``, ``confirmation`` or
  ``new_information`` against the thread before it (prior turns, the
  requirements stated so far, the assistant's last answer). ``hard_case`` tags
  the traps Liu et al. (2602.07338) name, e.g. ``fragment_correction`` or
  ``bare_yes_after_question``; ``corrects`` says what a correction changes.
* ``underspecification.jsonl``: one :class:`UnderspecItem` a line, the latest
  user message of a (possibly empty) thread, labeled ``missing`` when the task
  cannot be done correctly without a detail nobody has given
  (``missing_detail``), and complete otherwise; ``answerable_with_default``
  marks complete items a reasonable assistant would do with a standard default.

Records are validated on load; an error names the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from langgraph_mediator.evals.datasets import FEEDBACK_SET, UNDERSPEC_SET
from langgraph_mediator.jsonl import read_jsonl

DATASETS_DIR = FEEDBACK_SET.parent

FeedbackLabel = Literal["correction", "confirmation", "new_information"]


class ComponentSetError(ValueError):
    """A record of a component set is malformed; the message names file, line and field."""


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


def _last_assistant(turns: list[Turn]) -> str | None:
    return next((t.content for t in reversed(turns) if t.role == "assistant"), None)


class FeedbackItem(BaseModel):
    """A follow-up message and the feedback kind a careful reader gives it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    label: FeedbackLabel
    prior_turns: list[Turn] = Field(default_factory=list)
    last_answer: str = Field(default="", validate_default=True)
    requirements: list[str] = Field(default_factory=list)
    message: str = Field(min_length=1)
    hard_case: str = ""
    corrects: str = Field(default="", validate_default=True)

    @field_validator("last_answer")
    @classmethod
    def _matches_last_turn(cls, value: str, info: ValidationInfo) -> str:
        turns = info.data.get("prior_turns")
        expected = _last_assistant(turns) if turns else None
        if expected is not None and value != expected:
            raise ValueError("must equal the content of the last assistant turn in prior_turns")
        return value

    @field_validator("corrects")
    @classmethod
    def _corrects_iff_correction(cls, value: str, info: ValidationInfo) -> str:
        label = info.data.get("label")
        if label == "correction" and not value.strip():
            raise ValueError("must say what a correction changes")
        if label is not None and label != "correction" and value.strip():
            raise ValueError(f"must be empty for a {label} item")
        return value


class UnderspecItem(BaseModel):
    """The latest user message of a thread, and whether a required detail is missing."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    prior_turns: list[Turn] = Field(default_factory=list)
    message: str = Field(min_length=1)
    requirements: list[str] = Field(default_factory=list)
    missing: bool
    missing_detail: str = Field(default="", validate_default=True)
    answerable_with_default: bool = False

    @field_validator("missing_detail")
    @classmethod
    def _detail_iff_missing(cls, value: str, info: ValidationInfo) -> str:
        missing = info.data.get("missing")
        if missing is True and not value.strip():
            raise ValueError("must name the missing detail when missing is true")
        if missing is False and value.strip():
            raise ValueError("must be empty when missing is false")
        return value

    @field_validator("answerable_with_default")
    @classmethod
    def _default_means_complete(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("missing") is True:
            raise ValueError("cannot be true when missing is true")
        return value


Item = TypeVar("Item", FeedbackItem, UnderspecItem)


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(record)"


def _load(path: Path, model: type[Item]) -> list[Item]:
    if not path.is_file():
        raise FileNotFoundError(f"No component set at {path}")
    items: list[Item] = []
    seen: set[str] = set()
    for where, record in read_jsonl(path, error=ComponentSetError):
        try:
            item = model.model_validate(record)
        except ValidationError as exc:
            problems = "; ".join(
                f"field {_field_name(error['loc'])!r}: {error['msg']}" for error in exc.errors()
            )
            raise ComponentSetError(f"{where}: {problems}") from exc
        if item.id in seen:
            raise ComponentSetError(f"{where}: field 'id': duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items


def load_feedback_items(path: str | Path | None = None) -> list[FeedbackItem]:
    """Load the feedback-classification set (default: the shipped file).

    Raises :class:`ComponentSetError` (a ``ValueError``) naming the file, line
    and field of the first invalid record, or of a duplicate id.
    """
    return _load(Path(path) if path is not None else FEEDBACK_SET, FeedbackItem)


def load_underspec_items(path: str | Path | None = None) -> list[UnderspecItem]:
    """Load the underspecification set (default: the shipped file).

    Raises :class:`ComponentSetError` (a ``ValueError``) naming the file, line
    and field of the first invalid record, or of a duplicate id.
    """
    return _load(Path(path) if path is not None else UNDERSPEC_SET, UnderspecItem)
