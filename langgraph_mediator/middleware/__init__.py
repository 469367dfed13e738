"""The Mediator as a LangChain agent middleware: add it to the ``create_agent`` agent you have.

```python
from langchain.agents import create_agent
from langgraph_mediator.middleware import MediatorMiddleware

environment = describe_environment(system_prompt, tools)  # what the agent already has
agent = create_agent(
    model, tools, system_prompt=system_prompt,
    middleware=[MediatorMiddleware(assistant_environment=environment)],
)
```

Its hooks are async (``ainvoke``, ``astream``). See :class:`MediatorMiddleware`.
"""

from langgraph_mediator.middleware.mediator import (
    MediatorAgentState,
    MediatorMiddleware,
    describe_environment,
)

__all__ = ["MediatorAgentState", "MediatorMiddleware", "describe_environment"]
