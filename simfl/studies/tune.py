"""Choosing FedMeld's round interval (delta) and mixing ratio (alpha) under a latency budget.

The paper derives a closed form for delta and a semi-closed form for alpha from
convergence bounds for strongly convex losses. simfl offers the empirical counterpart:
run the scenario for ``T_max`` of simulated time at candidate (delta, alpha) pairs and keep
the pair with the best test accuracy at ``T_max``. ``grid`` tries every pair; ``refine``
starts from a coarse grid and halves the alpha step around the best point, with far fewer
runs. The result is only as general as the scenario: a different world, data split or
budget can move the optimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from simfl.errors import SimflError
from simfl.scenario.schema import Scenario
from simfl.studies.executors import ExecutorName
from simfl.studies.store import RunStore
from simfl.studies.sweep import run_sweep
from simfl.studies.variants import with_algorithm


@dataclass(frozen=True)
class TuneResult:
    """The chosen pair, its accuracy, and every evaluated point."""

    delta: int
    alpha: float
    accuracy: float
    table: pd.DataFrame
    runs: int


def _evaluate(scenario: Scenario, pairs: list[tuple[int, float]], t_max_s: float,
              executor: ExecutorName, workers: int | None, metric_node: str,
              progress: bool, store: RunStore | None = None) -> pd.DataFrame:
    points = []
    for delta, alpha in pairs:
        variant = with_algorithm(scenario, "fedmeld", round_interval=int(delta),
                                 mixing_ratio=float(alpha), duration_s=float(t_max_s))
        points.append(({"round_interval": int(delta), "mixing_ratio": float(alpha)}, variant))
    results, metrics = run_sweep(points, executor=executor, workers=workers, progress=progress,
                                 store=store)
    final = (metrics[(metrics["node"] == metric_node) & (metrics["metric"] == "accuracy")]
             .sort_values("t_s").groupby("run")["value"].last())
    results["accuracy"] = results["run"].map(final)
    return results


def tune_fedmeld(
    scenario: Scenario,
    t_max_s: float,
    *,
    deltas: Sequence[int] = (1, 2, 4, 8),
    alphas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    search: Literal["grid", "refine"] = "grid",
    refine_steps: int = 2,
    executor: ExecutorName = "local",
    workers: int | None = None,
    metric_node: str = "region_mean",
    progress: bool = True,
    store: RunStore | None = None,
) -> TuneResult:
    """Return the (delta, alpha) with the best ``metric_node`` accuracy at ``t_max_s``.

    Raises
    ------
    SimflError
        If the scenario is not a FedMeld-capable space scenario or T_max exceeds the plan.
    """
    if scenario.space is None:
        raise SimflError("tune needs a space scenario (with a space section), e.g. "
                         "scenarios/fedmeld_demo.yaml")
    if t_max_s > scenario.space.horizon_s:
        raise SimflError(f"T_max {t_max_s:g} s exceeds space.horizon_s "
                         f"{scenario.space.horizon_s:g} s; raise the horizon")
    if not deltas or not alphas or any(d < 1 for d in deltas):
        raise SimflError("tune needs deltas >= 1 and at least one alpha in [0, 1]")
    if search == "grid":
        pairs = [(d, a) for d in deltas for a in alphas]
        table = _evaluate(scenario, pairs, t_max_s, executor, workers, metric_node, progress,
                           store)
    else:
        coarse_alphas = sorted({min(alphas), (min(alphas) + max(alphas)) / 2, max(alphas)})
        coarse_deltas = sorted({min(deltas), sorted(deltas)[len(deltas) // 2], max(deltas)})
        pairs = [(d, a) for d in coarse_deltas for a in coarse_alphas]
        table = _evaluate(scenario, pairs, t_max_s, executor, workers, metric_node, progress,
                           store)
        step = (max(alphas) - min(alphas)) / 4
        for _ in range(refine_steps):
            best = table.iloc[int(table["accuracy"].to_numpy().argmax())]
            d, a = int(best["round_interval"]), float(best["mixing_ratio"])
            seen = set(zip(table["round_interval"], table["mixing_ratio"], strict=True))
            new = [(d, round(x, 6)) for x in (a - step, a + step)
                   if min(alphas) <= x <= max(alphas) and (d, round(x, 6)) not in seen]
            idx = sorted(deltas).index(d) if d in deltas else None
            if idx is not None:
                for j in (idx - 1, idx + 1):
                    if 0 <= j < len(deltas) and (sorted(deltas)[j], a) not in seen:
                        new.append((sorted(deltas)[j], a))
            if new:
                extra = _evaluate(scenario, new, t_max_s, executor, workers, metric_node,
                                  progress, store)
                table = pd.concat([table, extra], ignore_index=True)
            step /= 2
    best = table.iloc[int(table["accuracy"].to_numpy().argmax())]
    return TuneResult(int(best["round_interval"]), float(best["mixing_ratio"]),
                      float(best["accuracy"]), table, len(table))
