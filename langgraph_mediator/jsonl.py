"""JSON Lines files, read one way everywhere: blank lines skipped, errors name the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def read_jsonl(
    path: str | Path, *, error: type[ValueError] = ValueError
) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)`` for each non-blank line of ``path``.

    ``where`` is ``"<file name>:<line number>"``, for the caller's own
    validation errors. A line that is not JSON raises ``error`` (a
    ``ValueError`` subclass the caller chooses) naming it. The caller checks
    that the file exists, so its message can say which file it expected.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{where}: not valid JSON ({exc.msg})") from exc
            yield where, record


@dataclass(frozen=True)
class RecordPlace:
    """A record's line (``where`` from :func:`read_jsonl`) and its id: what its errors name."""

    where: str
    id_field: str
    """The name of the record's id field (``task_id``, ``conversation_id``)."""
    record_id: str
    error: type[ValueError] = ValueError

    def field_error(self, field_name: str, problem: str) -> ValueError:
        """``error`` naming the line, the record and the field, followed by ``problem``."""
        return self.error(
            f"{self.where} ({self.id_field} {self.record_id!r}): field {field_name!r} {problem}"
        )
