"""The mediator graph's five nodes: one user turn, from intent to an answer."""

from langgraph_mediator.nodes.mediator.clarify import clarify
from langgraph_mediator.nodes.mediator.classify_feedback import classify_feedback
from langgraph_mediator.nodes.mediator.detect_intent import make_detect_intent
from langgraph_mediator.nodes.mediator.execute import make_execute
from langgraph_mediator.nodes.mediator.wait_for_more import wait_for_more
from langgraph_mediator.nodes.types import GraphNode, graph_node

__all__ = [
    "GraphNode",
    "graph_node",
    "clarify",
    "classify_feedback",
    "make_detect_intent",
    "make_execute",
    "wait_for_more",
]
