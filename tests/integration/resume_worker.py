"""Run one scripted mediator turn in a fresh process: ``python resume_worker.py DB THREAD TURN``.

Used by test_persistence to prove a thread resumes in a new process with
nothing lost. The models are scripted fakes; the database is real.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find tests/fakes.py
from fakes import RESUME_SCRIPT, UNUSED_ENDPOINT, scripted, tool_reply  # noqa: E402


async def main(db: str, thread_id: str, turn: int) -> None:
    text, reading = RESUME_SCRIPT[turn]
    mediator = scripted(tool_reply("MediatorReading", reading))
    assistant = scripted(f"answer {turn}")
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(
            assistant, mediator_model=mediator,
            checkpointer=persistence.checkpointer, store=persistence.store,
        )  # fmt: skip
        context = MediatorContext(base_url=UNUSED_ENDPOINT, clarification_policy="never")
        result = await MediatorSession(graph, context).send(thread_id, text)
    print(json.dumps({"reply": result.reply, "ledger": result.requirements}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
