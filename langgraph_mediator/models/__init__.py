"""Chat models for both graphs: built lazily, called with clear errors, usage counted.

* :mod:`.chat`: a ChatOpenAI per endpoint and event loop (any OpenAI-compatible server);
* :mod:`.structured`: structured output (tool call, JSON schema or JSON mode), retried once;
* :mod:`.endpoint`: endpoint failures as one :class:`~langgraph_mediator.ModelEndpointError`;
* :mod:`.usage`: calls and tokens read off each response;
* :mod:`.local_server`: the embedded model (llama-cpp-python's server on 127.0.0.1).
"""

from langgraph_mediator.models.chat import (
    abuild_chat_model,
    build_chat_model,
    model_label,
    resolve_endpoint,
)
from langgraph_mediator.models.endpoint import endpoint_error, guarded_call
from langgraph_mediator.models.structured import ask_structured, bind_schema_tool
from langgraph_mediator.models.usage import call_record, usage_of

__all__ = [
    "abuild_chat_model",
    "ask_structured",
    "bind_schema_tool",
    "build_chat_model",
    "call_record",
    "endpoint_error",
    "guarded_call",
    "model_label",
    "resolve_endpoint",
    "usage_of",
]
