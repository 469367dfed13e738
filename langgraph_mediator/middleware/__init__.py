"""The Mediator as a LangChain agent middleware: add it to the ``create_agent`` agent you have.

```python
from langchain.agents import create_agent
from langgraph_mediator.middleware import MediatorMiddleware

agent = create_agent(model, tools, middleware=[MediatorMiddleware()])
```

Its hooks are async (``ainvoke``, ``astream``). See :class:`MediatorMiddleware`.
"""

from langgraph_mediator.middleware.mediator import MediatorAgentState, MediatorMiddleware

__all__ = ["MediatorAgentState", "MediatorMiddleware"]
