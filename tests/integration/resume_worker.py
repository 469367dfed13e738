"""Run one scripted mediator turn in a fresh process: ``python resume_worker.py DB THREAD TURN``.

Used by test_persistence to prove a thread resumes in a new process with
nothing lost. The models are scripted fakes; the database is real.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession

SCRIPT: dict[int, tuple[str, dict[str, Any]]] = {
    1: ("Write a function that converts temperatures.",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "new_task",
         "new_requirements": ["The function converts temperatures."]}),
    2: ("Input is in Fahrenheit.",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "new_information",
         "new_requirements": ["The input is in Fahrenheit."]}),
    3: ("no, Kelvin",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "correction",
         "changes": [{"requirement_id": "R2", "action": "supersede",
                      "replacement": "The input is in Kelvin.", "reason": "user said Kelvin"}]}),
}  # fmt: skip


class ToolFake(GenericFakeChatModel):
    """A fake whose bind_tools returns itself, so structured output can be scripted."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


async def main(db: str, thread_id: str, turn: int) -> None:
    text, reading = SCRIPT[turn]
    call = {"name": "MediatorReading", "args": reading, "id": f"c{turn}", "type": "tool_call"}
    mediator = ToolFake(messages=iter([AIMessage("", tool_calls=[call])]))
    assistant = ToolFake(messages=iter([AIMessage(f"answer {turn}")]))
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(
            assistant, mediator_model=mediator,
            checkpointer=persistence.checkpointer, store=persistence.store,
        )  # fmt: skip
        context = MediatorContext(base_url="http://unused.invalid/v1", clarification_policy="never")
        result = await MediatorSession(graph, context).send(thread_id, text)
    print(json.dumps({"reply": result.reply, "ledger": result.requirements}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
