"""Chat models for both graphs: built lazily, called with clear errors, usage counted.

* :mod:`.chat`: a ChatOpenAI per endpoint and event loop (any OpenAI-compatible server);
* :mod:`.choice`: models as users give them (a name or a chat model), checked when given;
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
from langgraph_mediator.models.choice import (
    ModelChoice,
    achat_model_for,
    chat_model_for,
    checked_model_choice,
)
from langgraph_mediator.models.endpoint import aguarded_call, endpoint_error, guarded_call
from langgraph_mediator.models.structured import aask_structured, ask_structured, bind_schema_tool
from langgraph_mediator.models.usage import call_record, usage_of

__all__ = [
    "ModelChoice",
    "achat_model_for",
    "chat_model_for",
    "checked_model_choice",
    "abuild_chat_model",
    "aask_structured",
    "ask_structured",
    "bind_schema_tool",
    "build_chat_model",
    "call_record",
    "endpoint_error",
    "aguarded_call",
    "guarded_call",
    "model_label",
    "resolve_endpoint",
    "usage_of",
]
