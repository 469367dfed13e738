"""Calls and tokens, read off each response: the usage records of a turn or a run."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage

from langgraph_mediator.state.mediator import ModelCall


def usage_of(messages: list[BaseMessage]) -> tuple[int, int, int]:
    """Count ``(calls, prompt_tokens, completion_tokens)`` over the AI messages given."""
    calls = prompt = completion = 0
    for message in messages:
        if isinstance(message, AIMessage):
            calls += 1
            if message.usage_metadata:
                prompt += message.usage_metadata["input_tokens"]
                completion += message.usage_metadata["output_tokens"]
    return calls, prompt, completion


def call_record(node: str, model: str, message: BaseMessage | None, seconds: float) -> ModelCall:
    """A usage record for one call from its response message."""
    _, prompt, completion = usage_of([message] if message is not None else [])
    return ModelCall(
        node=node,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        seconds=round(seconds, 4),
    )
