"""The Refiner's model calls: one structured call, its usage recorded, no silent failure.

Unlike the Mediator, the Refiner has no safe fallback: a malformed answer
twice stops the run with :class:`~langgraph_mediator.errors.RefinerOutputError`
before anything is stored. Whose run it is (the caller's) is read from the
run by the node shells (:mod:`langgraph_mediator.nodes.refiner.caller`), not here.
"""

from __future__ import annotations

from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from langgraph_mediator.errors import RefinerOutputError
from langgraph_mediator.models import (
    ModelChoice,
    aask_structured,
    achat_model_for,
    ask_structured,
    chat_model_for,
)
from langgraph_mediator.state import ModelCall, RefinerContext

M = TypeVar("M", bound=BaseModel)


def refiner_model(override: ModelChoice, context: RefinerContext) -> BaseChatModel:
    """The model a Refiner node calls: the one the graph was built with, else the context's."""
    return chat_model_for(override, context, context.refiner_model)


async def arefiner_model(override: ModelChoice, context: RefinerContext) -> BaseChatModel:
    """:func:`refiner_model` in an async run (built off the loop)."""
    return await achat_model_for(override, context, context.refiner_model)


def ask_refiner(
    model: BaseChatModel,
    schema: type[M],
    prompt: list[BaseMessage],
    *,
    node: str,
    context: RefinerContext,
    what: str,
) -> tuple[M, list[ModelCall]]:
    """Ask for ``schema``; the parsed answer and the usage records of every attempt.

    Raises:
        RefinerOutputError: malformed output twice; ``what`` names the step.

    """
    asked = ask_structured(
        model, schema, prompt, node=node, base_url=context.base_url, mode=context.structured_output
    )
    return _required(*asked, what=what)


async def aask_refiner(
    model: BaseChatModel,
    schema: type[M],
    prompt: list[BaseMessage],
    *,
    node: str,
    context: RefinerContext,
    what: str,
) -> tuple[M, list[ModelCall]]:
    """:func:`ask_refiner`, awaiting the model."""
    asked = await aask_structured(
        model, schema, prompt, node=node, base_url=context.base_url, mode=context.structured_output
    )
    return _required(*asked, what=what)


def _required(
    parsed: M | None, calls: list[ModelCall], error: str, *, what: str
) -> tuple[M, list[ModelCall]]:
    if parsed is None:
        raise RefinerOutputError(f"{what} malformed twice: {error}")
    return parsed, calls
