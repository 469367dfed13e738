"""The datasets that ship with the harness, read as package resources.

* ``sharded_tasks.jsonl``: the project's authored sharded tasks (math, code
  with tests, function calls), the default task file of ``mediator eval``;
* ``corrections_tasks.jsonl``: the corrections family (math, code, function
  calls, SQL) whose later shards correct, retract or narrow earlier ones, with
  bare confirmations among them; ``mediator eval --tasks corrections``;
* ``open_conversations.jsonl``: the open family (standing instructions, user facts,
  versioned editing, topic returns, the Assistant's own statements); ``mediator eval
  --tasks open``;
* ``feedback_classification.jsonl`` and ``underspecification.jsonl``: the
  labeled sets of the component evals.

Installed from a wheel, they sit inside the package, so the harness finds them
from any working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def dataset_path(name: str) -> Path:
    """The file of the shipped dataset ``name`` (e.g. ``"sharded_tasks.jsonl"``)."""
    return Path(str(files(__name__).joinpath(name)))


AUTHORED_TASKS = dataset_path("sharded_tasks.jsonl")
CORRECTIONS_TASKS = dataset_path("corrections_tasks.jsonl")
FEEDBACK_SET = dataset_path("feedback_classification.jsonl")
UNDERSPEC_SET = dataset_path("underspecification.jsonl")
OPEN_CONVERSATIONS = dataset_path("open_conversations.jsonl")
