"""Learning curves: a metric against simulated time or round, per node or per method.

Inputs are tidy metrics frames (``t_s``, ``round``, ``node``, ``metric``, ``value``; see
:data:`simfl.analysis.frames.METRIC_COLUMNS`). Each function returns the
:class:`~matplotlib.figure.Figure`; with ``path`` it is also written atomically (PNG, 150 dpi).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simfl.analysis.canvas import PathLike, draw_lines, finish_figure, new_figure
from simfl.analysis.frames import METRIC_COLUMNS, headline_node, method_label, require_columns
from simfl.analysis.nodes import sort_nodes
from simfl.analysis.timeaxis import choose_time_unit
from simfl.errors import SimflError


def plot_metric_vs_time(
    metrics: pd.DataFrame,
    metric: str = "accuracy",
    *,
    nodes: str | Sequence[str] | None = None,
    label_by: str = "node",
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return a figure of ``metric`` against simulated time, one line per ``label_by`` value.

    Parameters
    ----------
    metrics
        Tidy metrics frame.
    metric
        The metric to plot (a value of the ``metric`` column).
    nodes
        Nodes to show, or ``"all"``: every node that reports ``metric``. Default: the
        headline node (the global model, else the region mean, else the personalized
        models; see :data:`~simfl.analysis.frames.HEADLINE_NODES`) if one reports it, else
        all.
    label_by
        Column whose values name the lines (``"node"``, or e.g. ``"method"`` for a frame
        that concatenates several runs).
    path
        If given, the figure is also saved there (PNG at 150 dpi, written atomically).
    title
        Axes title; default ``"<metric> vs simulated time"``.
    """
    rows = select_metric(metrics, metric, nodes, label_by)
    t_s = rows["t_s"].to_numpy(dtype=np.float64)
    unit = choose_time_unit(float(t_s.max() - t_s.min()) if t_s.size else 0.0)
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    lines = {
        label: _xy(group, "t_s", unit.seconds)
        for label, group in _groups(rows, label_by, order_by="t_s")
    }
    draw_lines(ax, lines)
    ax.set_xlabel(unit.axis_label())
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} vs simulated time")
    return finish_figure(fig, path)


def plot_metric_vs_round(
    metrics: pd.DataFrame,
    metric: str = "accuracy",
    *,
    nodes: str | Sequence[str] | None = None,
    label_by: str = "node",
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return a figure of ``metric`` against the round counter, one line per ``label_by`` value.

    Rows with ``round < 0`` (no round) are left out; when a line has several values in one
    round the last one in simulated time is shown. Other parameters as in
    :func:`plot_metric_vs_time`.
    """
    rows = select_metric(metrics, metric, nodes, label_by)
    rows = rows.loc[rows["round"] >= 0]
    if rows.empty:
        raise SimflError(
            f"metric {metric!r} has no rows with round >= 0; plot it against time with "
            "plot_metric_vs_time instead"
        )
    rows = rows.sort_values("t_s", kind="stable").drop_duplicates([label_by, "round"], keep="last")
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    lines = {
        label: _xy(group, "round")
        for label, group in _groups(rows, label_by, order_by="round")
    }
    draw_lines(ax, lines)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} vs round")
    return finish_figure(fig, path)


def plot_methods_vs_time(
    frames: Mapping[str, pd.DataFrame],
    metric: str = "accuracy",
    path: PathLike | None = None,
    *,
    node: str | None = None,
    title: str | None = None,
) -> Figure:
    """Return a figure comparing runs: ``metric`` against simulated time, one line per run.

    ``frames`` maps a method (or run) name to its metrics frame. Each line is ``node``
    (default: the run's headline node, see :data:`~simfl.analysis.frames.HEADLINE_NODES`,
    named in the label when it is not the global model: ``local (personalized)``); a run
    without it shows the mean over its nodes at each time, and its label says so.
    """
    if not frames:
        raise SimflError("plot_methods_vs_time needs at least one {method: metrics frame} entry")
    lines_s: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for method, frame in frames.items():
        has_node = node is not None and (frame["node"].astype(str) == node).any()
        rows = select_metric(frame, metric, node if has_node else None, "node",
                             what=f"metrics of {method!r}")
        wanted = node if node is not None else headline_node(rows["node"])
        if wanted is not None and wanted in set(rows["node"].astype(str)):
            rows = rows.loc[rows["node"] == wanted].sort_values("t_s", kind="stable")
            label = str(method) if node is not None else method_label(method, wanted)
        else:
            rows = rows.groupby("t_s", sort=True)["value"].mean().reset_index()
            label = f"{method} (mean of nodes)"
        lines_s[label] = (rows["t_s"].to_numpy(dtype=np.float64), rows["value"].to_numpy())
    all_t = np.concatenate([t for t, _ in lines_s.values()])
    unit = choose_time_unit(float(all_t.max() - all_t.min()) if all_t.size else 0.0)
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    draw_lines(ax, {k: (t / unit.seconds, v) for k, (t, v) in lines_s.items()})
    ax.set_xlabel(unit.axis_label())
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} vs simulated time, by method")
    return finish_figure(fig, path)


def select_metric(
    metrics: pd.DataFrame,
    metric: str,
    nodes: str | Sequence[str] | None,
    label_by: str = "node",
    *,
    what: str = "metrics",
) -> pd.DataFrame:
    """Return the rows of ``metric`` for ``nodes`` (default: the headline node if present,
    see :data:`~simfl.analysis.frames.HEADLINE_NODES`, else all; ``"all"``: every node
    that reports it).

    Raises
    ------
    SimflError
        If a column, the metric or a requested node is missing (naming the valid choices).
    """
    require_columns(metrics, (*METRIC_COLUMNS, label_by), what)
    rows = metrics.loc[(metrics["metric"] == metric) & metrics["value"].notna()]
    if rows.empty:
        known = sorted(set(metrics["metric"].astype(str)))
        raise SimflError(f"{what} have no values of metric {metric!r}; available: {known}")
    present = set(rows["node"].astype(str))
    if nodes is None or nodes == "all":
        headline = headline_node(present) if nodes is None else None
        wanted = [headline] if headline is not None else sorted(present)
    else:
        wanted = [nodes] if isinstance(nodes, str) else [str(n) for n in nodes]
        unknown = [n for n in wanted if n not in present]
        if unknown:
            raise SimflError(
                f"{what}: node(s) {unknown} report no {metric!r}; nodes that do: "
                f"{sort_nodes(present)}"
            )
    return rows.loc[rows["node"].astype(str).isin(wanted)]


def _groups(
    rows: pd.DataFrame, label_by: str, *, order_by: str
) -> list[tuple[str, pd.DataFrame]]:
    groups = {str(k): g.sort_values(order_by, kind="stable") for k, g in rows.groupby(label_by)}
    order = sort_nodes(groups) if label_by == "node" else sorted(groups)
    return [(label, groups[label]) for label in order]


def _xy(group: pd.DataFrame, x_col: str, x_per_unit: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    x = group[x_col].to_numpy(dtype=np.float64) / x_per_unit
    return x, group["value"].to_numpy(dtype=np.float64)
