"""matplotlib for the harness's plots, imported only when a plot is drawn.

matplotlib is in the ``eval`` extra, not the core install:
``pip install 'langgraph-mediator[eval]'``. Without it, :func:`pyplot` raises
one clear error naming that command, and :func:`require_plotting` lets a
command check before it spends an hour on a run it could not plot.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

from langgraph_mediator.errors import MediatorError

_HINT = "install the harness's extra: pip install 'langgraph-mediator[eval]'"


def require_plotting() -> None:
    """Raise :class:`MediatorError` now if matplotlib is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise MediatorError(f"The evaluation harness draws plots with matplotlib: {_HINT}.")


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the file-only Agg backend (no display on servers and CI)."""
    require_plotting()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
