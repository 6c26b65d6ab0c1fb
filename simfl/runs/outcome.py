"""What a finished run says about itself: why it stopped, and what went wrong on the way.

A run can end "successfully" and mean nothing: no round ever aggregated an update, or a
region never saw a satellite. These warnings go into ``summary.json`` (``warnings``) and
onto the terminal, so a result cannot look fine when it is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simfl.scenario.algorithm_section import RoundsSection
from simfl.scenario.preflight import preflight

if TYPE_CHECKING:
    import pandas as pd

    from simfl.scenario.schema import Scenario
    from simfl.scenario.world import World

STOP_REASONS = ("rounds", "time_budget", "target_accuracy")
"""``rounds``: the round budget was spent. ``time_budget``: the simulated time budget
(``algorithm.duration_s`` or ``stop.max_time_s``) ended. ``target_accuracy``: the target
was reached."""


def stop_reason(scenario: Scenario, finished: bool, stopped_early: bool) -> str:
    """Return why a run ended (one of :data:`STOP_REASONS`).

    ``finished``: the algorithm's process returned (rather than ``stop.max_time_s`` ending
    it); ``stopped_early``: it returned because the target accuracy was reached.
    """
    if finished and stopped_early:
        return "target_accuracy"
    if finished and isinstance(scenario.algorithm, RoundsSection):
        return "rounds"
    return "time_budget"


def run_warnings(scenario: Scenario, summary: dict[str, Any], world: World,
                 metrics: pd.DataFrame | None = None) -> list[str]:
    """Return the warnings of a finished run: the scenario's own, then what happened.

    ``summary`` needs ``rounds_completed``, ``stop_reason`` and ``simulated_time_s``;
    ``metrics`` (the run's tidy metrics frame), when given, is checked for divergence.
    """
    warnings = list(preflight(scenario).warnings)
    if metrics is not None:
        warnings.extend(divergence_warnings(metrics, learning_rates(scenario)))
    simulated_s = float(summary["simulated_time_s"])
    space = world.space
    if space is not None:
        seen = set(space.plan.loc[space.plan["rise_s"] < simulated_s, "site"])
        unseen = [region for region in space.region_names if region not in seen]
        if unseen:
            warnings.append(
                f"{'regions' if len(unseen) > 1 else 'region'} {', '.join(unseen)} saw no "
                f"satellite above the elevation mask in {simulated_s / 3600:g} h simulated, so "
                "their devices never trained; lower elevation_mask_deg, move the regions under "
                "the ground track, or use more satellites or a longer run")
    if int(summary["rounds_completed"]) == 0:
        hint = ("every sampled client may miss algorithm.deadline_s (raise it, or make "
                "devices or links faster)" if getattr(scenario.algorithm, "deadline_s", None)
                else "check the time budget, the devices' speed and the links")
        warnings.append(
            f"no round completed in {simulated_s:g} s simulated (stop_reason "
            f"{summary['stop_reason']}): no model update was aggregated, so the final metrics "
            f"are those of the initial model; {hint}")
    return warnings


EXPLODED_FACTOR = 100.0
"""A loss (or RMSE) this many times a node's first evaluated value counts as diverged."""


def learning_rates(scenario: Scenario) -> dict[str, float]:
    """Return the scenario's learning rates by YAML path: ``training.lr`` and the
    algorithm's own (``algorithm.lr``, ``algorithm.personal_lr``, ...), where set."""
    rates = {"training.lr": float(scenario.training.lr)}
    for name, value in scenario.algorithm.model_dump().items():
        if (name == "lr" or name.endswith("_lr")) and isinstance(value, int | float):
            rates[f"algorithm.{name}"] = float(value)
    return rates


def divergence_warnings(metrics: pd.DataFrame, rates: dict[str, float]) -> list[str]:
    """Return a warning if some node's loss or RMSE diverged, else nothing.

    Diverged: not finite, or above :data:`EXPLODED_FACTOR` times the node's first evaluated
    value (the initial model's, for every shipped algorithm). A diverged model still reports
    an accuracy (about chance), so without this a run that blew up would look like a run
    that merely learned badly. Every node is checked (auxiliary ones too); the warning names
    the first nodes, when and what was evaluated, and the learning ``rates`` (YAML path ->
    value) to lower.
    """
    import numpy as np

    watched = metrics[metrics["metric"].isin(["loss", "rmse"])].sort_values(
        ["t_s", "round"], kind="stable")
    if watched.empty:
        return []
    values = watched["value"].to_numpy(dtype=float)
    first = watched.groupby(["node", "metric"], sort=False)["value"].transform("first")
    start = first.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        diverged = ~np.isfinite(values) | (np.isfinite(start) & (start > 0)
                                           & (values > EXPLODED_FACTOR * start))
    bad = watched[diverged].drop_duplicates("node")
    if bad.empty:
        return []
    shown = bad.head(3)
    where = ", ".join(f"node {n} at t={t:g} s (round {r}: {m} {v:.4g})" for n, t, r, m, v in zip(
        shown["node"], shown["t_s"], shown["round"], shown["metric"], shown["value"],
        strict=True))
    more = f" and {len(bad) - 3} more node(s)" if len(bad) > 3 else ""
    lower = ", ".join(f"{path} (now {value:g})" for path, value in rates.items())
    return [f"training diverged: the evaluated loss or RMSE became non-finite or over "
            f"{EXPLODED_FACTOR:g}x its first value at {where}{more}; those models are garbage "
            f"from there on (accuracy near chance); lower the learning rate: {lower}, or the "
            f"local steps"]
