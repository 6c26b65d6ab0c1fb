"""Tables of zone algorithms (SGFusion and its baselines, arXiv 2510.23455) in a comparison.

Inputs are a comparison's tidy metrics with an ``algorithm`` column (zone models are nodes
``zone:<name>``) and each run's summary. Every function is pure and returns a new frame.
Improvements are relative to a baseline algorithm (zone FL): in % of the baseline's value,
positive when better (lower RMSE or loss, higher accuracy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from simfl.analysis.frames import require_columns
from simfl.analysis.outcomes import HIGHER_IS_BETTER
from simfl.errors import SimflError

ZONE_PREFIX = "zone:"


def improvement_pct(value: float, baseline: float, metric: str) -> float:
    """Return how much better ``value`` is than ``baseline``, in % of the baseline."""
    if baseline == 0:
        return 0.0
    sign = 1.0 if metric in HIGHER_IS_BETTER else -1.0
    return 100.0 * sign * (value - baseline) / abs(baseline)


def final_zone_values(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Return the last ``metric`` of every zone model: columns ``algorithm, zone, value``."""
    require_columns(metrics, ("algorithm", "t_s", "round", "node", "metric", "value"),
                    "metrics")
    rows = metrics.loc[metrics["node"].astype(str).str.startswith(ZONE_PREFIX)
                       & (metrics["metric"] == metric)]
    if rows.empty:
        raise SimflError(f"no zone:<name> rows of metric {metric!r}; was this a comparison of "
                         "zone algorithms (zone_fl, sgfusion, ...)?")
    last = (rows.sort_values(["t_s", "round"], kind="stable")
            .groupby(["algorithm", "node"], sort=False)["value"].last().reset_index())
    last["zone"] = last["node"].astype(str).str.removeprefix(ZONE_PREFIX)
    return last[["algorithm", "zone", "value"]].reset_index(drop=True)


def zone_table(final: pd.DataFrame, metric: str, baseline: str | None,
               country_of: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return one row per zone: ``country``, each algorithm's value and, against
    ``baseline``, each other algorithm's ``<algorithm>_improvement_pct``."""
    zones = list(dict.fromkeys(final["zone"]))
    table = final.pivot(index="zone", columns="algorithm", values="value").reindex(zones)
    algorithms = list(dict.fromkeys(final["algorithm"]))
    table = table[algorithms]
    if baseline is not None and baseline in table.columns:
        for algo in algorithms:
            if algo != baseline:
                table[f"{algo}_improvement_pct"] = [
                    improvement_pct(v, b, metric) for v, b in zip(table[algo], table[baseline],
                                                                  strict=True)]
    table.insert(0, "country", [(country_of or {}).get(z, "") for z in zones])
    table.columns.name = None
    return table.reset_index()


def algorithm_table(runs: Sequence[tuple[str, Mapping[str, Any]]], table: pd.DataFrame,
                    metric: str, baseline: str | None) -> pd.DataFrame:
    """Return one row per algorithm: pooled final metric, improvement over the baseline in %,
    zones improved, mean partners per zone and round, simulated s and bytes per round."""
    summaries = dict(runs)
    base = summaries.get(baseline) if baseline is not None else None
    rows = []
    for algo, s in runs:
        pooled = float(s["final_metrics"].get(metric, float("nan")))
        rounds = max(1, int(s.get("rounds_completed", 0)))
        row: dict[str, Any] = {"algorithm": algo, f"pooled_{metric}": pooled}
        if base is not None:
            row["pooled_improvement_pct"] = improvement_pct(
                pooled, float(base["final_metrics"][metric]), metric)
            column = f"{algo}_improvement_pct"
            if column in table.columns:
                better = int((table[column] > 0).sum())
                row["zones_improved"] = f"{better}/{len(table)}"
        details = s.get("details", {})
        row["mean_sampled_zones"] = details.get("mean_sampled_zones", 0.0)
        row["simulated_s_per_round"] = float(s["simulated_time_s"]) / rounds
        row["bytes_per_round"] = float(s["bytes_moved"]) / rounds
        rows.append(row)
    return pd.DataFrame(rows)
