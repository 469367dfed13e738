"""Sharded tasks: the released "Lost in Conversation" format and the project's authored set.

One JSON object per line. Every record has ``task_id``, ``task`` (its family)
and ``shards`` (``[{shard_id, shard}]``; the first states the high-level goal,
each later one adds one requirement). Per family, the fields the checkers need:

* math: ``answer`` ending in ``#### N``; fully specified text in ``question``.
* code: ``test`` (a ``check(candidate)`` function), ``metadata.func_name``;
  fully specified text in ``prompt`` (a signature and docstring) or
  ``fully_specified_question``; the authored set adds ``canonical_solution``
  (a whole function that passes ``test``).
* actions: ``function`` (JSON schemas of the callable functions) and
  ``reference_answer`` (``[{name: {param: [accepted values]}}]``); fully
  specified text in ``fully_specified_question`` (a string, or BFCL's nested
  message list).
* database: ``schema_sql``, ``reference_sql``, ``fully_specified_question``.
* data2text: ``table_html``, ``references``; summary: ``documents``, ``query``,
  shards that point at documents with ``doc_idxs``.

Records are validated on load; an error names the file, line, task_id and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from langgraph_mediator.jsonl import RecordPlace, read_jsonl

TaskFamily = Literal["math", "code", "actions", "database", "data2text", "summary"]
FAMILIES: tuple[str, ...] = get_args(TaskFamily)

_REQUIRED: dict[str, tuple[str, ...]] = {
    "math": ("answer",),
    "code": ("test", "metadata"),
    "actions": ("function", "reference_answer"),
    "database": ("schema_sql", "reference_sql"),
    "data2text": ("references",),
    "summary": ("documents", "query"),
}


class TaskFormatError(ValueError):
    """A task record is malformed; the message names the record and the field."""


@dataclass(frozen=True)
class ShardedTask:
    """One task, with its shards as the simulated user will reveal them."""

    task_id: str
    family: TaskFamily
    shards: list[str]
    full_instruction: str
    record: dict[str, Any] = field(repr=False)
    source: str = ""

    @property
    def split_key(self) -> str:
        """A stable key for splitting tasks into train/test (the Refiner's disjoint split)."""
        return self.task_id


def _summary_documents(record: dict[str, Any], indexes: Iterable[int]) -> str:
    by_index = {d.get("document_index"): d.get("document_text", "") for d in record["documents"]}
    return "\n\n".join(f"[Document {i}]\n{by_index.get(i, '')}" for i in indexes)


def _shard_texts(record: dict[str, Any], place: RecordPlace) -> list[str]:
    shards = record.get("shards")
    if not isinstance(shards, list) or not shards:
        raise place.field_error("shards", "must be a non-empty list of {shard_id, shard}")
    texts: list[str] = []
    for i, shard in enumerate(shards):
        if not isinstance(shard, dict) or not isinstance(shard.get("shard"), str):
            raise place.field_error(f"shards[{i}].shard", "must be a string")
        text = shard["shard"].strip()
        if record.get("task") == "summary":
            docs = _summary_documents(record, shard.get("doc_idxs", []))
            lead = (
                f"Write a summary that answers: {record['query']} Cite the documents "
                "you use as [Document N]."
                if i == 0
                else "Here are more documents."
            )
            text = f"{text}\n{lead}\n\n{docs}".strip()
        if not text:
            raise place.field_error(f"shards[{i}].shard", "is empty")
        texts.append(text)
    return texts


def _full_instruction(record: dict[str, Any], shards: list[str]) -> str:
    family = record["task"]
    full = record.get("fully_specified_question")
    if isinstance(full, list):  # BFCL: [[{"role": "user", "content": ...}]]
        full = " ".join(m.get("content", "") for turn in full for m in turn if isinstance(m, dict))
    if family == "math":
        full = full or record.get("question")
    elif family == "code":
        full = full or record.get("prompt")
    if isinstance(full, str) and full.strip():
        return full.strip()
    # data2text and summary: the fully specified version is every shard at once.
    return "\n\n".join(shards)


def parse_task(record: Any, where: str = "record") -> ShardedTask:
    """Validate one record and normalise it into a :class:`ShardedTask`."""
    if not isinstance(record, dict):
        raise TaskFormatError(f"{where}: a task record must be a JSON object")
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id.strip():
        raise TaskFormatError(f"{where}: field 'task_id' must be a non-empty string")
    place = RecordPlace(where, "task_id", task_id, TaskFormatError)
    family = record.get("task")
    if family not in FAMILIES:
        raise place.field_error("task", f"must be one of {', '.join(FAMILIES)}; got {family!r}")
    for name in _REQUIRED[family]:
        if record.get(name) in (None, "", []):
            raise place.field_error(name, f"is required for {family} tasks")
    if family == "math" and "####" not in str(record["answer"]):
        raise place.field_error("answer", "must end with '#### <number>'")
    if family == "code" and not str(record["metadata"].get("func_name", "")).strip():
        raise place.field_error("metadata.func_name", "is required for code tasks")
    if family == "code" and "def check" not in str(record["test"]):
        raise place.field_error("test", "must define check(candidate)")
    if family == "actions" and not isinstance(record["reference_answer"], list):
        raise place.field_error("reference_answer", "must be a list of {name: {param: [..]}}")
    shards = _shard_texts(record, place)
    return ShardedTask(
        task_id=task_id,
        family=family,
        shards=shards,
        full_instruction=_full_instruction(record, shards),
        record=record,
        source=str(record.get("source", "")),
    )


def iter_tasks(path: str | Path) -> Iterator[ShardedTask]:
    """Yield the tasks of a JSONL file, validating each; duplicate ids are an error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No task file at {path}")
    seen: set[str] = set()
    for where, record in read_jsonl(path, error=TaskFormatError):
        task = parse_task(record, where)
        if task.task_id in seen:
            raise RecordPlace(where, "task_id", task.task_id, TaskFormatError).field_error(
                "task_id", "is a duplicate"
            )
        seen.add(task.task_id)
        yield task


def load_tasks(
    paths: Iterable[str | Path], *, families: Iterable[str] | None = None, limit: int | None = None
) -> list[ShardedTask]:
    """Load every task of ``paths`` (files or directories of ``*.jsonl``), optionally filtered."""
    wanted = set(families) if families else None
    tasks: list[ShardedTask] = []
    for path in paths:
        path = Path(path)
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            tasks.extend(t for t in iter_tasks(file) if wanted is None or t.family in wanted)
    return tasks[:limit] if limit is not None else tasks
