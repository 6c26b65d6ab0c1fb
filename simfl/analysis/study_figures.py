"""Figures of studies: an accuracy surface over two parameters, bytes by method and link,
latency vs metric, and a metric vs bytes moved and simulated time."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from simfl.analysis.canvas import PathLike, finish_figure, new_figure
from simfl.errors import SimflError

MAX_STAGE_POINTS = 5
"""Series with at most this many evaluations (one-shot methods and FuseFL's stages) are
drawn as dotted points; longer ones (multi-round methods) as solid curves."""


def plot_surface(
    table: pd.DataFrame,
    x: str,
    y: str,
    z: str,
    *,
    path: PathLike | None = None,
    title: str | None = None,
    best: tuple[float, float] | None = None,
) -> Figure:
    """Return a heatmap of ``z`` over the grid of ``x`` and ``y`` values, cells annotated.

    ``best`` marks a chosen (x, y) point. Missing grid cells are left blank.
    """
    for col in (x, y, z):
        if col not in table.columns:
            raise SimflError(f"plot_surface: column {col!r} is missing; have "
                             f"{', '.join(map(str, table.columns))}")
    pivot = table.pivot_table(index=y, columns=x, values=z, aggfunc="mean").sort_index()
    pivot = pivot.reindex(sorted(pivot.columns), axis=1)
    fig = new_figure(6.5, 4.5)
    ax = fig.add_subplot()
    values = pivot.to_numpy(dtype=float)
    mesh = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(pivot.columns)), [f"{v:g}" for v in pivot.columns])
    ax.set_yticks(range(len(pivot.index)), [f"{v:g}" for v in pivot.index])
    finite = values[np.isfinite(values)]
    middle = float(finite.mean()) if finite.size else 0.0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.3f}", ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] < middle else "black")
    if best is not None:
        j = [float(c) for c in pivot.columns].index(float(best[0]))
        i = [float(r) for r in pivot.index].index(float(best[1]))
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red",
                               linewidth=2.5))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(mesh, ax=ax, label=z)
    ax.set_title(title or f"{z} over {x} and {y}")
    return finish_figure(fig, path)


def plot_bytes_by_link(
    results: pd.DataFrame, *, label: str = "run", path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return grouped bars of bytes moved per link type, one bar per run, log scale.

    Link columns are the ``bytes_<link>`` columns of a sweep's results table. The log
    scale keeps small but decisive traffic (ground stations, inter-satellite links) visible
    next to the device links; a run that moved nothing over a link has no bar there.
    """
    links = [c for c in results.columns if c.startswith("bytes_") and c != "bytes_moved"]
    if not links:
        raise SimflError("plot_bytes_by_link: the table has no bytes_<link> columns")
    data = results.set_index(label)[links].fillna(0.0)
    runs = [str(v) for v in data.index]
    fig = new_figure(max(7.0, 1.1 * len(links) + 2), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(runs))
    for k, run in enumerate(runs):
        vals = data.iloc[k].to_numpy(dtype=float)
        x = np.arange(len(links)) + (k - (len(runs) - 1) / 2) * width
        shown = vals > 0
        ax.bar(x[shown], vals[shown], width=width, label=run, color=f"C{k % 10}")
    ax.set_yscale("log")
    ax.set_xticks(range(len(links)), [c.removeprefix("bytes_") for c in links], rotation=20,
                  ha="right")
    ax.set_ylabel("bytes moved (log scale)")
    ax.legend(fontsize=8, ncols=min(len(runs), 3))
    ax.set_title(title or "Bytes moved by link type", fontsize=11)
    return finish_figure(fig, path)


def plot_latency_vs_metric(
    results: pd.DataFrame,
    time_column: str,
    metric_column: str,
    *,
    label: str = "run",
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return the latency-versus-accuracy figure of a study: one point per run.

    x: the simulated time the run first reached the target (``time_column``); y: its final
    metric (``metric_column``, e.g. ``final_accuracy``). Runs that never reached the target
    sit at the right edge, marked 'not reached'. The Pareto front (no other run both faster
    and better) is joined by a line and its points ringed.
    """
    from simfl.analysis.outcomes import pareto_front
    from simfl.analysis.timeaxis import choose_time_unit

    for col in (time_column, metric_column, label):
        if col not in results.columns:
            raise SimflError(f"plot_latency_vs_metric: column {col!r} is missing; have "
                             f"{', '.join(map(str, results.columns))}")
    metric = metric_column.removeprefix("final_").removeprefix("personalized_")
    times = [None if pd.isna(t) else float(t) for t in results[time_column]]
    values = [float(v) for v in results[metric_column]]
    reached = [t for t in times if t is not None]
    unit = choose_time_unit(max(reached) if reached else 1.0)
    edge = (max(reached) / unit.seconds * 1.15) if reached else 1.0
    xs = [t / unit.seconds if t is not None else edge for t in times]
    fig = new_figure(6.5, 4.5)
    ax = fig.add_subplot()
    for x_val, y_val, name, t in zip(xs, values, results[label], times, strict=True):
        ax.scatter([x_val], [y_val], marker="o" if t is not None else "x", s=40, zorder=3)
        ax.annotate(str(name), (x_val, y_val), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    front = pareto_front(times, values, metric)
    ax.plot([xs[i] for i in front], [values[i] for i in front], color="black", linewidth=1,
            zorder=2, label="Pareto front")
    ax.scatter([xs[i] for i in front], [values[i] for i in front], s=140, facecolors="none",
               edgecolors="black", zorder=4)
    if len(reached) < len(times):
        ax.axvline(edge, color="grey", linestyle=":", linewidth=1)
        ax.text(edge, ax.get_ylim()[0], " not reached", rotation=90, va="bottom",
                fontsize=8, color="grey")
    target_metric, _, target_value = (time_column.removeprefix("time_to_")
                                      .removesuffix("_s").rpartition("_"))
    sign = ">=" if target_metric.endswith("accuracy") else "<="
    ax.set_xlabel(f"{unit.axis_label('time')} to reach {target_metric} {sign} {target_value}")
    ax.set_ylabel(metric_column.replace("_", " "))
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "latency vs final metric, one point per run")
    return finish_figure(fig, path)


def plot_metric_vs_cost(
    frames: Mapping[str, pd.DataFrame],
    metric: str = "accuracy",
    *,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return the figure of ``metric`` against bytes moved (left, log scale) and simulated
    time (right), one series per method.

    ``frames`` maps a method to its metrics frame; each evaluation of its headline node
    (the global model, else the region mean, else the personalized models) is paired with
    the bytes moved by then (:func:`simfl.analysis.frames.metric_with_bytes`; evaluations
    before any byte moved are left out of the log axis). Multi-round
    methods (FedAvg's rounds) draw a curve; one-shot methods are points, the final one large
    and labelled (FuseFL's partial stages lead to it). Methods without ``bytes_moved`` are
    left out.
    """
    from simfl.analysis.frames import headline_node, method_label, metric_with_bytes
    from simfl.analysis.timeaxis import choose_time_unit

    nodes = {name: headline_node(frame["node"]) or "global" for name, frame in frames.items()}
    series = {method_label(name, nodes[name]): metric_with_bytes(frame, metric, nodes[name])
              for name, frame in frames.items()}
    series = {name: s for name, s in series.items() if len(s)}
    if not series:
        raise SimflError("plot_metric_vs_cost: no run recorded bytes_moved with its headline "
                         f"{metric}; nothing to draw")
    unit = choose_time_unit(max(float(s["t_s"].max()) for s in series.values()))
    fig = new_figure(11.0, 4.4)
    axes = fig.subplots(1, 2, sharey=True)
    for k, (name, s) in enumerate(series.items()):
        color = f"C{k % 10}"
        for ax, x in ((axes[0], s["bytes_moved"].to_numpy(dtype=float)),
                      (axes[1], s["t_s"].to_numpy(dtype=float) / unit.seconds)):
            y = s["value"].to_numpy(dtype=float)
            if ax is axes[0]:  # a log axis: evaluations before any byte moved are left out
                x, y = x[x > 0], y[x > 0]
            if not len(x):
                continue
            ax.plot(x, y, color=color, marker="o", markersize=3, linewidth=1.2,
                    linestyle="-" if len(s) > MAX_STAGE_POINTS else ":")
            ax.scatter(x[-1:], y[-1:], color=color, s=60, zorder=3,
                       label=name if ax is axes[0] else None)
            ax.annotate(name, (x[-1], y[-1]), textcoords="offset points", xytext=(5, 4),
                        fontsize=8, color=color)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("bytes moved (log scale)")
    axes[1].set_xlabel(unit.axis_label("simulated time"))
    axes[0].set_ylabel(metric)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(title or f"{metric} vs bytes moved and vs simulated time", fontsize=11)
    return finish_figure(fig, path)
