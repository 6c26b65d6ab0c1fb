"""Figure of a dendrogram of zones whose node heights are SGFusion's ``d_r`` (arXiv 2510.23455).

Input is plain data, in SciPy's linkage convention: ``merges[k] = (a, b)`` joins nodes ``a``
and ``b`` into node ``n + k`` (leaves are ``0 .. n-1``), ``heights[k]`` is that node's
``d_r`` and ``names`` label the leaves. A fitted tree need not be monotone (a child's
``d_r`` may exceed its parent's); such inversions are drawn as they are, in red.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from simfl.analysis.canvas import PathLike, finish_figure, new_figure

MAX_HEIGHT_LABELS = 30  # trees with at most this many internal nodes get d_r printed


def plot_dendrogram(
    merges: Sequence[tuple[int, int]],
    heights: Sequence[float],
    names: Sequence[str],
    *,
    path: PathLike | None = None,
    title: str | None = None,
    height_label: str = "d_r (mean distance between the two subtrees)",
) -> Figure:
    """Return a dendrogram figure: leaves labelled at the bottom, each node at its ``d_r``.

    Parameters
    ----------
    merges
        ``n - 1`` pairs; merge ``k`` makes node ``n + k``.
    heights
        ``d_r`` of each merge, shape (n-1,).
    names
        Leaf labels, length n.
    path
        Where to save the figure (``.png``, ``.pdf`` or ``.svg``), if given.
    """
    n = len(names)
    if len(merges) != n - 1 or len(heights) != n - 1:
        raise ValueError(f"{n} leaves need {n - 1} merges and heights, got {len(merges)} "
                         f"and {len(heights)}")
    x = np.zeros(2 * n - 1)
    y = np.zeros(2 * n - 1)
    y[n:] = np.asarray(heights, dtype=float)
    order = _leaf_order(merges, n)
    x[order] = np.arange(n)
    for k, (a, b) in enumerate(merges):
        x[n + k] = 0.5 * (x[a] + x[b])
    fig = new_figure(max(5.0, 0.35 * n + 2.0), 4.5)
    ax = fig.add_subplot()
    inversions = 0
    for k, (a, b) in enumerate(merges):
        v = n + k
        for child in (a, b):
            inverted = child >= n and y[child] > y[v]
            inversions += inverted
            ax.plot([x[child], x[child], x[v]], [y[child], y[v], y[v]],
                    color="tab:red" if inverted else "0.2", linewidth=1.3)
        if n - 1 <= MAX_HEIGHT_LABELS:
            ax.annotate(f"{y[v]:.3g}", (x[v], y[v]), textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize="x-small", color="0.35")
    if inversions:
        ax.text(0.99, 0.99, f"red: {inversions} node(s) above their parent", ha="right",
                va="top", transform=ax.transAxes, fontsize="x-small", color="tab:red")
    ax.set_xticks(np.arange(n))
    ax.set_xticklabels([names[i] for i in order], rotation=90 if n > 12 else 0,
                       fontsize="small")
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(0.0, max(float(y.max()), 1e-12) * 1.12)
    ax.set_ylabel(height_label)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(title or f"dendrogram of {n} zones, loss = sum d_r = {float(y[n:].sum()):.5g}")
    return finish_figure(fig, path)


def _leaf_order(merges: Sequence[tuple[int, int]], n: int) -> list[int]:
    """Return the leaves left to right (in-order walk from the root)."""
    order: list[int] = []
    stack = [2 * n - 2]
    while stack:
        v = stack.pop()
        if v < n:
            order.append(v)
        else:
            a, b = merges[v - n]
            stack.extend([b, a])
    return order
