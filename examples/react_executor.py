"""Plug a tool-using ReAct agent in as the Assistant.

The Mediator turns the fragmentary conversation into one explicit instruction;
the agent receives that instruction and may call tools to carry it out.

    OPENAI_BASE_URL=... OPENAI_API_KEY=... MEDIATOR_MODEL=gpt-4o-mini \\
        python examples/react_executor.py

Without OPENAI_BASE_URL the embedded 135M model is used; it runs the plumbing
but rarely calls tools well.
"""

from __future__ import annotations

import asyncio

from langchain.agents import create_agent
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.models import abuild_chat_model
from langgraph_mediator.session import MediatorSession


@tool
def paint_cans(wall_area_m2: float, coats: int, coverage_m2_per_can: float) -> int:
    """Number of paint cans needed for a wall area, a number of coats and a can's coverage."""
    needed = wall_area_m2 * coats / coverage_m2_per_can
    return int(needed) + (0 if needed.is_integer() else 1)


async def main() -> None:
    context = MediatorContext(clarification_policy="never")
    assistant_model = await abuild_chat_model(context, context.assistant_model)
    agent = create_agent(assistant_model, [paint_cans])
    graph = build_mediator_graph(executor=agent, checkpointer=InMemorySaver())
    session = MediatorSession(graph, context)
    for shard in (
        "How many cans of paint do I need for my bedroom?",
        "Four walls, each 5 m wide and 2.5 m high.",
        "One can covers 10 square metres, and I want two coats.",
    ):
        result = await session.send("react-demo", shard)
        print(f"user> {shard}\ninstruction:\n{result.instruction}\nassistant> {result.reply}\n")


if __name__ == "__main__":
    asyncio.run(main())
