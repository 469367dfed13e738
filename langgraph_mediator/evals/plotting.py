"""matplotlib for the harness's plots, imported only when a plot is drawn.

matplotlib is in the ``eval`` extra, not the core install:
``pip install 'langgraph-mediator[eval]'``. Without it, :func:`pyplot` raises
one clear error naming that command, and :func:`require_plotting` lets a
command check before it spends an hour on a run it could not plot.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

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


def label_chart(ax: Any, *, ylabel: str, top: float, title: str) -> None:
    """The y label, a y axis from 0 to ``top``, the title and a small legend."""
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top)
    ax.set_title(title)
    ax.legend(fontsize=8)


def save_figure(fig: Any, path: Path) -> None:
    """Lay out ``fig``, write it to ``path`` as a PNG and close it.

    pyplot keeps every figure open until it is closed: a long harness run that
    draws dozens of plots would otherwise hold them all in memory.
    """
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot().close(fig)
