"""The Mediator as a LangChain agent middleware: add it to the ``create_agent`` agent you have.

Pass it to ``create_agent(model, tools, middleware=[MediatorMiddleware(...)])`` with
``assistant_environment=describe_environment(system_prompt, tools)``, so the
Mediator knows what the agent can look up. Each hook has a sync and an async
form: the agent runs under ``invoke``/``stream``/``batch`` and their async
forms alike. See :class:`MediatorMiddleware`.
"""

from langgraph_mediator.middleware.mediator import (
    MediatorAgentState,
    MediatorMiddleware,
    describe_environment,
)

__all__ = ["MediatorAgentState", "MediatorMiddleware", "describe_environment"]
