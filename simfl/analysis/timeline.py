"""Per-node Gantt chart of a run's trace: who computed, sent, waited and dropped work when.

One row per node (cloud, edge and ground first, then satellites, then clients in natural
order). Within a row the upper half shows compute (and aggregate/mix/evaluate work), the
lower half transfers: solid on the sender's row, pale on the receiver's. Waits are hatched
across the whole row, drops are red. Bars are merged per row and kind before drawing (gaps
narrower than a pixel vanish), so a trace of 100k events is a few hundred polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from simfl.analysis.canvas import PathLike, finish_figure, new_figure
from simfl.analysis.frames import merge_intervals, require_columns
from simfl.analysis.nodes import sort_nodes
from simfl.analysis.timeaxis import choose_time_unit
from simfl.errors import SimflError

MIN_BAR_FRACTION = 1e-3  # bars shorter than this fraction of the window are widened to it
MIN_DROP_FRACTION = 3e-3  # drops (often instants) are widened more, to stand out
MERGE_GAP_FRACTION = 1 / 3000  # gaps shorter than this fraction of the window are closed



@dataclass(frozen=True)
class _BarStyle:
    """How one category of bars looks; the band is in row units (y axis inverted, so a
    negative offset is the upper half of the row)."""

    label: str
    band_offset: float
    band_height: float
    facecolor: str
    zorder: float
    edgecolor: str = "none"
    hatch: str | None = None
    alpha: float = 1.0


_STYLE: dict[str, _BarStyle] = {
    "wait": _BarStyle("wait", -0.42, 0.84, "none", 1.0, edgecolor="0.55", hatch="////"),
    "transfer_in": _BarStyle("transfer (receiving)", 0.0, 0.36, "#f28e2b", 1.5, alpha=0.35),
    "compute": _BarStyle("compute", -0.36, 0.36, "#4e79a7", 2.0),
    "transfer": _BarStyle("transfer (sending)", 0.0, 0.36, "#f28e2b", 2.0),
    "work": _BarStyle("aggregate / mix / evaluate", -0.36, 0.36, "#59a14f", 3.0),
    "drop": _BarStyle("drop", -0.42, 0.84, "#e15759", 4.0),
}
_CATEGORY_OF_KIND = {
    "compute": "compute", "transfer": "transfer", "aggregate": "work", "mix": "work",
    "evaluate": "work", "wait": "wait", "drop": "drop",
}


def plot_node_timeline(
    trace: pd.DataFrame,
    *,
    max_nodes: int = 40,
    path: PathLike | None = None,
    t_range_s: tuple[float, float] | None = None,
) -> Figure:
    """Return a per-node Gantt chart of the trace: one bar collection per row and kind.

    Bars are the ``PolyCollection`` that ``Axes.broken_barh`` makes (built directly, without
    its per-bar loop); waits are one hatched compound ``PathPatch`` per row instead
    (hatching thousands of separate polygons is slow in Agg).

    Parameters
    ----------
    trace
        Trace frame (columns of :data:`simfl.engine.trace.TRACE_COLUMNS`).
    max_nodes
        Show at most this many rows (in node order); the title says how many were left out.
    path
        If given, the figure is also saved there (PNG at 150 dpi, written atomically).
    t_range_s
        ``(start_s, end_s)`` window of simulated time to show; default: the whole trace.
        Events are clipped to it.

    Notes
    -----
    Bars shorter than 0.1 % of the window (drops: 0.3 %) are widened to that so that
    instants (drops, aggregations) stay visible; the chart is for reading, the trace holds
    exact times.
    """
    require_columns(trace, ("kind", "node", "peer", "t_start_s", "t_end_s"), "trace")
    if max_nodes < 1:
        raise SimflError(f"max_nodes must be >= 1, got {max_nodes}; e.g. max_nodes=40")
    start_s = trace["t_start_s"].to_numpy(dtype=np.float64)
    end_s = trace["t_end_s"].to_numpy(dtype=np.float64)
    t0, t1 = _window(start_s, end_s, t_range_s)
    inside = (end_s >= t0) & (start_s <= t1)
    events = pd.DataFrame({
        "kind": trace["kind"].astype(str).to_numpy()[inside],
        "node": trace["node"].astype(str).to_numpy()[inside],
        "peer": trace["peer"].fillna("").astype(str).to_numpy()[inside],
        "start": np.clip(start_s[inside], t0, t1),
        "end": np.clip(end_s[inside], t0, t1),
    })
    peers = events.loc[(events["kind"] == "transfer") & (events["peer"] != ""), "peer"]
    all_nodes = sort_nodes([*events["node"].unique(), *peers.unique()])
    nodes = all_nodes[:max_nodes]
    span_s = t1 - t0
    unit = choose_time_unit(span_s)

    fig = new_figure(10.0, min(1.6 + 0.28 * max(len(nodes), 1), 16.0))
    ax = fig.add_subplot()
    bars = _bars(events, nodes, span_s)
    for (row, category), (xs, widths) in bars.items():
        style = _STYLE[category]
        corners = _rectangles(xs / unit.seconds, widths / unit.seconds,
                              row + style.band_offset, style.band_height)
        if style.hatch:
            # One compound path per row: Agg hatches each polygon of a collection on its own,
            # and thousands of hatched polygons take seconds. add_artist skips autoscaling
            # (the limits are set below), which would walk every vertex in Python.
            ax.add_artist(PathPatch(
                _compound_path(corners), facecolor=style.facecolor, edgecolor=style.edgecolor,
                hatch=style.hatch, alpha=style.alpha, zorder=style.zorder, linewidth=0.0,
                label=f"_{category}",
            ))
        else:
            # What Axes.broken_barh builds, without its per-rectangle Python loop.
            ax.add_collection(PolyCollection(
                list(corners), facecolor=style.facecolor, edgecolor=style.edgecolor,
                alpha=style.alpha, zorder=style.zorder, linewidth=0.0,
            ), autolim=False)

    ax.set_ylim(max(len(nodes), 1) - 0.5, -0.5)
    ax.set_yticks(range(len(nodes)), nodes, fontsize=8 if len(nodes) > 20 else 9)
    ax.set_xlim(t0 / unit.seconds, t1 / unit.seconds)
    ax.set_xlabel(unit.axis_label())
    ax.grid(True, axis="x", alpha=0.3)
    truncated = len(nodes) < len(all_nodes)
    shown = f" ({len(nodes)} of {len(all_nodes)} nodes shown)" if truncated else ""
    ax.set_title(f"Node timeline{shown}")
    if not nodes:
        ax.text(0.5, 0.5, "no events in this time window", transform=ax.transAxes,
                ha="center", va="center", color="0.4")
    used = {category for _, category in bars}
    handles = [
        Patch(facecolor=s.facecolor, edgecolor=s.edgecolor, hatch=s.hatch, alpha=s.alpha,
              label=s.label)
        for category, s in _STYLE.items() if category in used
    ]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                   fontsize="small", frameon=False)
    return finish_figure(fig, path)


def _window(
    start_s: np.ndarray, end_s: np.ndarray, t_range_s: tuple[float, float] | None
) -> tuple[float, float]:
    if t_range_s is not None:
        t0, t1 = (float(t) for t in t_range_s)
        if not (np.isfinite(t0) and np.isfinite(t1) and t0 < t1):
            raise SimflError(
                f"t_range_s={t_range_s!r} is not a window; give (start_s, end_s) with "
                "start_s < end_s, e.g. t_range_s=(0.0, 3600.0)"
            )
        return t0, t1
    if start_s.size == 0:
        return 0.0, 1.0
    t0, t1 = float(start_s.min()), float(end_s.max())
    return (t0, t1) if t1 > t0 else (t0, t0 + 1.0)


def _bars(
    events: pd.DataFrame, nodes: list[str], span_s: float
) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """Return merged bars ``{(row, category): (starts_s, widths_s)}`` of the shown nodes."""
    category = events["kind"].map(_CATEGORY_OF_KIND)
    row_index = pd.Index(nodes)
    sender_row = row_index.get_indexer(pd.Index(events["node"]))  # -1: a node not shown
    parts = [pd.DataFrame({"row": sender_row, "category": category,
                           "start": events["start"], "end": events["end"]})]
    is_transfer = (events["kind"] == "transfer").to_numpy()
    receiver_row = row_index.get_indexer(pd.Index(events["peer"]))
    parts.append(pd.DataFrame({
        "row": receiver_row[is_transfer], "category": "transfer_in",
        "start": events["start"].to_numpy()[is_transfer],
        "end": events["end"].to_numpy()[is_transfer],
    }))
    table = pd.concat(parts, ignore_index=True)
    table = table.loc[(table["row"] >= 0) & table["category"].notna()]
    min_width_s = span_s * np.where(
        table["category"] == "drop", MIN_DROP_FRACTION, MIN_BAR_FRACTION
    )
    table = table.assign(end=np.maximum(table["end"], table["start"] + min_width_s))
    bars: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    for key, group in table.groupby(["row", "category"], sort=True):
        row, cat = cast(tuple[int, str], key)
        starts, ends = merge_intervals(
            group["start"].to_numpy(), group["end"].to_numpy(), gap_s=span_s * MERGE_GAP_FRACTION
        )
        bars[(int(row), str(cat))] = (starts, ends - starts)
    return bars


def _rectangles(x: np.ndarray, width: np.ndarray, y: float, height: float) -> np.ndarray:
    """Return the corners (n, 4, 2) of the rectangles ``[x, x + width] x [y, y + height]``."""
    corners = np.empty((x.size, 4, 2))
    corners[:, :, 0] = np.column_stack((x, x + width, x + width, x))
    corners[:, :, 1] = np.array([y, y, y + height, y + height])
    return corners


def _compound_path(corners: np.ndarray) -> Path:
    """Return one path made of the closed polygons ``corners`` (n, 4, 2)."""
    n = corners.shape[0]
    vertices = np.concatenate((corners, corners[:, :1, :]), axis=1).reshape(-1, 2)
    codes = np.tile(
        np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                 dtype=Path.code_type),
        n,
    )
    return Path(vertices, codes)
