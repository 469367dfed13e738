"""One step of the SIGKILL case in a fresh process: ``python kill_worker.py DB THREAD STEP``.

``STEP`` is ``1`` or ``2`` (a whole scripted turn; turn 1 also stores the
user's guidelines), ``hang-mediator`` or ``hang-assistant`` (turn 3, stopping
for good inside that model call after touching ``$KILL_MARKER``, so the test
can SIGKILL the process there), or ``finish`` (complete the cut-off turn).
It prints one JSON line: the reply and how often each model was called.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.guidelines import aput_guidelines
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find tests/fakes.py
from fakes import (  # noqa: E402
    RESUME_SCRIPT,
    UNUSED_ENDPOINT,
    ScriptedChatModel,
    scripted,
    tool_reply,
)

USER = "kill-test-user"
GUIDELINE = "Read a bare unit after an answer as a correction of the earlier unit."
TEXTS = {turn: text for turn, (text, _) in RESUME_SCRIPT.items()}
READINGS = {turn: reading for turn, (_, reading) in RESUME_SCRIPT.items()}


class HangingModel(ScriptedChatModel):
    """Touches ``$KILL_MARKER`` and never returns: the process is killed inside the call."""

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        Path(os.environ["KILL_MARKER"]).touch()
        time.sleep(3600)
        raise AssertionError("the test should have killed this process")


def models(step: str) -> tuple[ScriptedChatModel, ScriptedChatModel]:
    """The Mediator and Assistant models of ``step``."""
    turn = int(step) if step.isdigit() else 3
    mediator = scripted(tool_reply("MediatorReading", READINGS[turn]))
    assistant = scripted(f"answer {turn}")
    if step == "hang-mediator":
        mediator = HangingModel(messages=iter(()), seen=[])
    if step == "hang-assistant":
        assistant = HangingModel(messages=iter(()), seen=[])
    return mediator, assistant


async def main(db: str, thread_id: str, step: str) -> None:
    mediator, assistant = models(step)
    async with open_persistence(db) as persistence:
        if step == "1":
            await aput_guidelines(persistence.store, USER, [GUIDELINE])
        graph = build_mediator_graph(
            assistant, mediator_model=mediator,
            checkpointer=persistence.checkpointer, store=persistence.store,
        )  # fmt: skip
        context = MediatorContext(
            base_url=UNUSED_ENDPOINT, user_id=USER, clarification_policy="never"
        )
        session = MediatorSession(graph, context)
        if step == "finish":
            pending = await session.unfinished_turn(thread_id)
            result = await session.finish_turn(thread_id)
        else:
            pending = ()
            turn = int(step) if step.isdigit() else 3
            result = await session.send(thread_id, TEXTS[turn])
    print(json.dumps({
        "reply": result.reply if result else None,
        "pending": list(pending),
        "mediator_calls": len(mediator.seen),
        "assistant_calls": len(assistant.seen),
        "mediator_prompts": [[m.content for m in p] for p in mediator.seen],
    }))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
