"""Replaying readings: the real graph, prompt, ledger and safeguards, with the readings scripted.

No capable model runs here, so the Mediator's readings of a task can be written
by hand, as a capable model would write them from the exact prompt the code
renders, and replayed through the mediator graph in the FINAL setting. What
comes out (the final instruction and its fidelity) is then the code's doing:
a change to the prompt, the ledger or the safeguards that loses a fact shows.

A readings file is JSON::

    {"task_id": "corrections-math/pizza-party",
     "written_by": "hand-written: ...",
     "prompts_sha256": "<digest of every prompt the readings answered>",
     "readings": [{"task_type": "math", "goal": "...", "feedback": "new_task", ...}, ...]}

A file with ``conversation_id`` instead of ``task_id`` replays an open
conversation (:mod:`.open_family`): its fixed history through the graph, one
reading per user turn, and what the Assistant's final input then holds of the
conversation's needed strings, in each mediated setting.

``prompts_sha256`` pins the prompts: when the code renders different prompts,
the readings no longer answer what the model would have been asked, and the
file must be rewritten, not loosened. ``python -m langgraph_mediator.evals.replay
FILE`` prints the next prompt to answer, or, once every turn is answered, the
instruction, its fidelity and the digest.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from langgraph_mediator.evals.canned import CannedChatModel
from langgraph_mediator.evals.conversation import (
    ConversationResult,
    EvalEnvironment,
    Setting,
    final_instruction,
    run_conversation,
)
from langgraph_mediator.evals.datasets import CORRECTIONS_TASKS
from langgraph_mediator.evals.open_family import (
    ASSISTANT_INPUT,
    OpenResult,
    OpenSetting,
    history_messages,
    play_mediated,
    score_input,
)
from langgraph_mediator.evals.open_tasks import OpenConversation, load_open_conversations
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks
from langgraph_mediator.state import MediatorContext, MediatorReading

ASSISTANT_ANSWER = "Here is my answer to the task as specified so far."
"""What the Assistant says every turn of a replay (no question mark: the simulator moves on)."""
REPLAY_ENDPOINT = "http://replay.invalid/v1"
"""Keeps the context from starting the embedded model; nothing is ever sent there."""


class ReadingsExhausted(Exception):  # noqa: N818 - it is the signal, not a failure
    """The replay needs a reading the file does not hold yet; ``prompt`` is what it would answer."""

    def __init__(self, prompt: list[BaseMessage]) -> None:
        """Keep the prompt that found no reading."""
        super().__init__(f"no reading for Mediator call {len(prompt)}")
        self.prompt = prompt


class ScriptedReadings(CannedChatModel):
    """Answers each Mediator call with the next reading; records every prompt."""

    readings: list[dict[str, Any]]
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    answer: str = ASSISTANT_ANSWER
    structured: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted-readings"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """Structured output: the copy answers with readings (prompts are shared)."""
        return self.model_copy(update={"structured": True})

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if not self.structured:
            return AIMessage(self.answer)
        self.prompts.append(list(messages))
        index = len(self.prompts) - 1
        if index >= len(self.readings):
            raise ReadingsExhausted(list(messages))
        reading = MediatorReading.model_validate(self.readings[index]).model_dump()
        call = {"name": "MediatorReading", "args": reading, "id": f"r{index}", "type": "tool_call"}
        return AIMessage("", tool_calls=[call])


def prompts_digest(prompts: Sequence[Sequence[BaseMessage]]) -> str:
    """SHA-256 over every message of every prompt, in order."""
    digest = hashlib.sha256()
    for prompt in prompts:
        for message in prompt:
            digest.update(f"{message.type}\x00{message.content}\x01".encode())
    return digest.hexdigest()


@dataclass
class Replay:
    """A finished replay: the conversation as the eval records it, and the prompts answered."""

    result: ConversationResult
    prompts: list[list[BaseMessage]]

    @property
    def digest(self) -> str:
        """:func:`prompts_digest` of the prompts the readings answered."""
        return prompts_digest(self.prompts)

    @property
    def instruction(self) -> str:
        """The final instruction (what FINAL's one answer was asked)."""
        return final_instruction(self.result.turns)


def replay_context() -> MediatorContext:
    """The settings replays run with: the defaults, and no endpoint ever called."""
    return MediatorContext(base_url=REPLAY_ENDPOINT, temperature=0.0)


async def replay(
    task: ShardedTask, readings: list[dict[str, Any]], context: MediatorContext | None = None
) -> Replay:
    """Play ``task`` in the FINAL setting with ``readings`` as the Mediator's replies.

    Raises:
        ReadingsExhausted: the conversation needs more readings than given.

    """
    model = ScriptedReadings(readings=readings, prompts=[])
    env = EvalEnvironment(assistant=model, mediator=model, context=context or replay_context())
    result = await run_conversation(env, task, Setting.FINAL, 0)
    if result.error:
        raise RuntimeError(f"replay of {task.task_id} failed: {result.error}")
    return Replay(result, model.prompts)


@dataclass
class OpenReplay:
    """A replayed open conversation in one setting, and the prompts its readings answered."""

    result: OpenResult
    prompts: list[list[BaseMessage]]
    final_input: list[BaseMessage]

    @property
    def digest(self) -> str:
        """:func:`prompts_digest` of the prompts the readings answered."""
        return prompts_digest(self.prompts)


async def replay_open(
    conversation: OpenConversation,
    readings: list[dict[str, Any]],
    setting: OpenSetting = OpenSetting.MEDIATOR,
) -> OpenReplay:
    """Play ``conversation`` in a mediated ``setting`` with ``readings`` as the Mediator's replies.

    Raises:
        ReadingsExhausted: the conversation needs more readings than given.

    """
    model = ScriptedReadings(readings=readings, prompts=[])
    env = EvalEnvironment(assistant=model, mediator=model, context=replay_context())
    result = OpenResult.unplayed(conversation, setting, 0)
    executor = await play_mediated(env, conversation, result, ASSISTANT_INPUT[setting])
    return OpenReplay(result, model.prompts, executor.final_input or [])


async def open_replay_summary(paths: Sequence[Path]) -> dict[str, dict[str, int]]:
    """What each setting's final input holds over the open readings files in ``paths``.

    Per setting (``BARE`` from the raw conversation, each mediated one from a
    replay): conversations, needed strings and how many were carried, the
    conversations carrying all of them, and stale strings held.
    """
    conversations = {c.conversation_id: c for c in load_open_conversations()}
    summary = {
        str(s): dict.fromkeys(("conversations", "needed", "carried", "all", "stale"), 0)
        for s in OpenSetting
    }
    for path in paths:
        data = load_readings(path)
        conversation = conversations[data["conversation_id"]]
        for setting in OpenSetting:
            result = OpenResult.unplayed(conversation, setting, 0)
            if setting == OpenSetting.BARE:
                score_input(result, conversation, history_messages(conversation))
            else:
                result = (await replay_open(conversation, data["readings"], setting)).result
            row = summary[str(setting)]
            row["conversations"] += 1
            row["needed"] += len(result.needed)
            row["carried"] += len(result.needed) - len(result.missing)
            row["all"] += not result.missing
            row["stale"] += len(result.stale)
    return summary


def load_readings(path: Path) -> dict[str, Any]:
    """A readings file, checked for the fields a replay needs."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    key = "conversation_id" if "conversation_id" in data else "task_id"
    for name in (key, "written_by", "readings"):
        if name not in data:
            raise ValueError(f"{path}: a readings file needs {name!r}")
    return data


def _render(prompt: Sequence[BaseMessage]) -> str:
    return "\n\n".join(f"--- {m.type} ---\n{m.content}" for m in prompt)


async def _main_open(path: Path, data: dict[str, Any], write_digest: bool) -> int:
    conversations = {c.conversation_id: c for c in load_open_conversations()}
    conversation = conversations[data["conversation_id"]]
    try:
        done = await replay_open(conversation, data["readings"])
    except ReadingsExhausted as needed:
        print(f"# reading {len(data['readings']) + 1} answers this prompt\n")
        print(_render(needed.prompt))
        return 3
    print(_render(done.final_input), "\n")
    print(
        json.dumps(
            {
                "needed": list(conversation.needed),
                "missing": done.result.missing,
                "stale": done.result.stale,
            },
            indent=1,
        )
    )
    print(f"prompts_sha256: {done.digest}")
    if write_digest:
        data["prompts_sha256"] = done.digest
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0


async def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m langgraph_mediator.evals.replay")
    parser.add_argument(
        "readings",
        type=Path,
        help="readings file (JSON), or with --summary a folder of open readings files",
    )
    parser.add_argument("--tasks", type=Path, default=CORRECTIONS_TASKS, help="task file")
    parser.add_argument(
        "--write-digest",
        action="store_true",
        help="store the prompts' digest in the file once complete",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="per setting, what the final inputs of the folder's open conversations hold",
    )
    args = parser.parse_args(argv)
    if args.summary:
        summary = await open_replay_summary(sorted(args.readings.glob("*.json")))
        print(json.dumps(summary, indent=1))
        return 0
    data = load_readings(args.readings)
    if "conversation_id" in data:
        return await _main_open(args.readings, data, args.write_digest)
    tasks = {t.task_id: t for t in load_tasks([args.tasks])}
    try:
        done = await replay(tasks[data["task_id"]], data["readings"])
    except ReadingsExhausted as needed:
        print(f"# reading {len(data['readings']) + 1} answers this prompt\n")
        print(_render(needed.prompt))
        return 3
    print(done.instruction, "\n")
    print(json.dumps(done.result.fidelity, indent=1))
    print(f"prompts_sha256: {done.digest}")
    if args.write_digest:
        data["prompts_sha256"] = done.digest
        args.readings.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
