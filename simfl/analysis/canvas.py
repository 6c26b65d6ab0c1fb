"""Figures without pyplot: an Agg-backed :class:`~matplotlib.figure.Figure`, saved atomically.

Figures are built with :class:`matplotlib.figure.Figure` and an explicit Agg canvas, never
through ``pyplot``: no global figure registry to leak memory into, no GUI backend, no
``show``. A returned figure is an ordinary object that is garbage-collected when dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simfl.atomic import atomic_path
from simfl.errors import SimflError

DPI = 150
FORMATS = ("png", "pdf", "svg")

PathLike = str | os.PathLike[str]


def new_figure(width_in: float, height_in: float) -> Figure:
    """Return an empty figure of ``width_in`` x ``height_in`` inches on an Agg canvas."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` atomically to ``path`` at 150 dpi and return the path.

    The format follows the suffix (``.png``, ``.pdf`` or ``.svg``); the file appears only
    once it is complete.

    Raises
    ------
    SimflError
        If the suffix is not one of :data:`FORMATS`.
    """
    final = Path(path)
    fmt = final.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SimflError(
            f"figure path {str(final)!r} has suffix {final.suffix!r}; "
            f"use one of {', '.join('.' + f for f in FORMATS)} (e.g. {final.stem}.png)"
        )
    with atomic_path(final) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI)
    return final


def finish_figure(fig: Figure, path: PathLike | None) -> Figure:
    """Return ``fig``, first saving it to ``path`` (see :func:`save_figure`) when given."""
    if path is not None:
        save_figure(fig, path)
    return fig
