"""A run's outcomes from its metrics: final and best values, and time to each target.

Pure functions over the tidy metrics frame (``t_s, round, node, metric, value``); the run
summary, ``simfl compare`` and ``simfl sweep`` report them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

HIGHER_IS_BETTER = frozenset({"accuracy"})
"""Metrics where more is better; every other metric (loss, rmse) is better lower."""


def better(metric: str, a: float, b: float) -> bool:
    """Return whether value ``a`` of ``metric`` is at least as good as ``b``."""
    return a >= b if metric in HIGHER_IS_BETTER else a <= b


def target_label(metric: str, value: float) -> str:
    """Return how a target is named: ``accuracy>=0.9``, ``rmse<=12``."""
    op = ">=" if metric in HIGHER_IS_BETTER else "<="
    return f"{metric}{op}{value:g}"


def final_and_best(metrics: pd.DataFrame, node: str) -> tuple[dict[str, float], float | None]:
    """Return ``({metric: last value, best_<metric>: best value}, t_s of the last values)``.

    The last values are those of ``node``'s latest evaluation; the best is the maximum of an
    accuracy and the minimum of a loss or an RMSE over all its evaluations. Empty (and None)
    when ``node`` reported nothing.
    """
    rows = metrics[metrics["node"] == node]
    if rows.empty:
        return {}, None
    last_t = rows["t_s"].max()
    last = rows[rows["t_s"] == last_t].drop_duplicates("metric", keep="last")
    out = {str(m): float(v) for m, v in zip(last["metric"], last["value"], strict=True)}
    for metric, group in rows.groupby("metric", sort=True):
        name = str(metric)
        values = group["value"]
        out[f"best_{name}"] = float(values.max() if name in HIGHER_IS_BETTER else values.min())
    return out, float(last_t)


def time_to_targets(
    metrics: pd.DataFrame, node: str, targets: Mapping[str, Sequence[float]]
) -> dict[str, float | None]:
    """Return ``{target label: first simulated time the target was met, or None}``.

    A target of ``accuracy`` is met at ``value >= target``; of ``rmse`` or ``loss`` at
    ``value <= target`` (see :func:`target_label`).
    """
    rows = metrics[metrics["node"] == node].sort_values(["t_s", "round"], kind="stable")
    out: dict[str, float | None] = {}
    for metric, values in targets.items():
        series = rows[rows["metric"] == metric]
        for target in values:
            met = series[[better(metric, float(v), float(target)) for v in series["value"]]]
            out[target_label(metric, float(target))] = (float(met["t_s"].iloc[0]) if len(met)
                                                        else None)
    return out


def pareto_front(times_s: Sequence[float | None], values: Sequence[float],
                 metric: str) -> list[int]:
    """Return the indices of the runs no other run beats on both time to target and metric.

    Run j dominates run i when it reached the target no later (a run that never reached it
    counts as infinitely late) and ended no worse, and is strictly better in one of the two.
    Sorted by time (never reached last).
    """
    inf = float("inf")
    t = [inf if x is None else float(x) for x in times_s]

    def dominates(j: int, i: int) -> bool:
        no_worse = t[j] <= t[i] and better(metric, values[j], values[i])
        return no_worse and (t[j] < t[i] or values[j] != values[i])

    front = [i for i in range(len(values))
             if not any(dominates(j, i) for j in range(len(values)) if j != i)]
    return sorted(front, key=lambda i: t[i])
