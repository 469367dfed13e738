"""How the graphs' nodes are made: one node, a sync and an async form.

LangGraph runs a node's sync form under ``invoke``/``stream``/``batch`` and
its async form under ``ainvoke``/``astream``/``abatch``. A node given only
one form fails (async only: ``invoke`` raises) or pays a thread hop (sync
only: ``ainvoke`` runs it in an executor). :func:`graph_node` gives both.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

# The runnable LangGraph itself and LangChain's create_agent make nodes of: a sync and an
# async function under one name, with ``runtime`` injected into either by keyword.
from langgraph._internal._runnable import RunnableCallable

GraphNode: TypeAlias = RunnableCallable
"""A node with both forms, ready for ``StateGraph.add_node``."""


def graph_node(
    func: Callable[..., dict[str, Any]],
    afunc: Callable[..., Awaitable[dict[str, Any]]] | None = None,
) -> GraphNode:
    """A node from ``func`` (sync) and ``afunc`` (async; ``None``: ``func`` has no I/O).

    A node without I/O (pure bookkeeping, an ``interrupt``) runs as is in both
    forms. Both forms must take the same parameters: LangGraph injects
    ``runtime`` by the sync function's signature.
    """
    if afunc is None:

        @functools.wraps(func)
        async def afunc(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return func(*args, **kwargs)

    # trace=False: LangGraph already traces each node as a run of its own.
    return RunnableCallable(func, afunc, name=func.__name__, trace=False)
