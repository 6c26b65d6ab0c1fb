"""Figure plumbing shared by the analysis figures: Agg figures, atomic saving, labelled lines.

Figures are built with :class:`matplotlib.figure.Figure` and an explicit Agg canvas, never
through ``pyplot``: no global figure registry to leak memory into, no GUI backend, no
``show``. A returned figure is an ordinary object that is garbage-collected when dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simfl.atomic import atomic_path
from simfl.errors import SimflError

DPI = 150
FORMATS = ("png", "pdf", "svg")

MAX_LEGEND_ENTRIES = 15  # more lines than this get colormap colours and no legend
MAX_MARKED_POINTS = 40  # lines with at most this many points also get point markers

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


def draw_lines(ax: Axes, lines: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Draw one labelled Line2D per ``{label: (x, y)}`` entry, with a legend when readable.

    Up to 10 lines use the default colour cycle, more a viridis ramp; more than
    :data:`MAX_LEGEND_ENTRIES` lines get a note instead of a legend. Short lines (at most
    :data:`MAX_MARKED_POINTS` points) get point markers.
    """
    n = len(lines)
    colors: list[object] = (
        [f"C{i}" for i in range(n)]
        if n <= 10
        else [tuple(c) for c in colormaps["viridis"](np.linspace(0.0, 0.95, n))]
    )
    for (label, (x, y)), color in zip(lines.items(), colors, strict=True):
        marker = "o" if len(y) <= MAX_MARKED_POINTS else None
        ax.plot(x, y, label=label, color=color, marker=marker, markersize=3, linewidth=1.4)
    ax.grid(True, alpha=0.3)
    if 0 < n <= MAX_LEGEND_ENTRIES:
        ax.legend(loc="best", fontsize="small", frameon=False)
    elif n:
        ax.text(0.99, 0.01, f"{n} lines (legend omitted)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize="small", color="0.4")
