"""Evaluation of the mediator graph.

The sharded-conversation protocol of Laban et al. (2505.06120) as LangSmith
experiments, and component evals of the Mediator's decisions.
"""
