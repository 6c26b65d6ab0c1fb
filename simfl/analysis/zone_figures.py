"""Figures of zone algorithms: per-zone improvement bars over a baseline (SGFusion's zone FL).

Zone maps and dendrograms are drawn by :mod:`simfl.analysis.zone_map` and
:mod:`simfl.analysis.dendrogram`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simfl.analysis.canvas import PathLike, finish_figure, new_figure
from simfl.errors import SimflError


def plot_zone_improvement(
    table: pd.DataFrame,
    algorithms: Sequence[str],
    *,
    baseline: str = "zone_fl",
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return horizontal bars of each algorithm's improvement over ``baseline`` per zone, %.

    ``table`` is :func:`simfl.analysis.zone_tables.zone_table`'s (columns ``zone`` and
    ``<algorithm>_improvement_pct``); one group of bars per zone, one bar per algorithm,
    right of zero = better than the baseline.
    """
    columns = [f"{a}_improvement_pct" for a in algorithms]
    missing = [c for c in columns if c not in table.columns]
    if missing or "zone" not in table.columns:
        raise SimflError(f"plot_zone_improvement: the table lacks {missing or ['zone']}; give "
                         "zone_table(...) with a baseline")
    zones = [str(z) for z in table["zone"]]
    fig = new_figure(7.5, max(3.5, 0.32 * len(zones) * max(1, len(algorithms)) ** 0.5 + 1.5))
    ax = fig.add_subplot()
    height = 0.8 / max(1, len(algorithms))
    y = np.arange(len(zones))
    for k, (algo, column) in enumerate(zip(algorithms, columns, strict=True)):
        offset = (k - (len(algorithms) - 1) / 2) * height
        ax.barh(y + offset, table[column].to_numpy(dtype=float), height=height, label=algo,
                color=f"C{k % 10}")
    ax.axvline(0.0, color="0.2", linewidth=0.8)
    ax.set_yticks(y, zones, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(f"improvement over {baseline}, % (right = better)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize="small", frameon=False)
    ax.set_title(title or f"per-zone improvement over {baseline}")
    return finish_figure(fig, path)
