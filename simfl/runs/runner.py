"""Simulating a validated scenario: build the world, run the algorithm, summarise.

:func:`simulate` is the in-memory entry point (notebooks, tests, sweeps);
:func:`simfl.runs.directory.write_run_directory` persists its result.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch
from tqdm import tqdm

from simfl.analysis.frames import headline_node
from simfl.analysis.outcomes import final_and_best, time_to_targets
from simfl.engine.simulation import Simulation
from simfl.runs import outcome
from simfl.scenario.registry import algorithm_spec
from simfl.scenario.schema import Scenario

if TYPE_CHECKING:
    from simfl.runs.checkpoint import Checkpointer
from simfl.scenario.world import build_world


@dataclass
class RunResult:
    """What a run produced: the resolved scenario, trace, metrics and summary."""

    scenario: Scenario
    trace: pd.DataFrame
    metrics: pd.DataFrame
    summary: dict[str, Any]
    algorithm: Any = None
    """The algorithm object after the run (its final models), for notebooks and tests."""


def simulate(scenario: Scenario, *, progress: bool = False,
             checkpoint: Checkpointer | None = None) -> RunResult:
    """Run ``scenario`` to its end and return the trace, metrics and summary.

    ``checkpoint`` stores what is trained as the run goes, and supplies what a killed run
    had trained when resuming (:mod:`simfl.runs.checkpoint`).

    The run ends when the algorithm's rounds or time budget are done, the target accuracy is
    reached, or ``stop.max_time_s`` of simulated time has passed, whichever comes first;
    ``summary["stop_reason"]`` says which, and ``summary["warnings"]`` what went wrong.
    """
    wall_start = time.perf_counter()
    algo_cls: Any = algorithm_spec(scenario.algorithm.name).cls
    sim = Simulation(scenario.epoch, scenario.seed)
    world = build_world(scenario, sim, progress=progress)
    if checkpoint is not None:
        checkpoint.attach(sim, world)
    algo = algo_cls(sim, world, scenario.algorithm)
    # the bar advances by the algorithm's progress steps (rounds, or evaluation ticks of a
    # time budget) and shows the rounds aggregated so far, which the summary reports
    bar = tqdm(total=scenario.algorithm.progress_total(), desc=scenario.name,
               unit=scenario.algorithm.progress_unit(), disable=not progress, leave=False,
               dynamic_ncols=True)
    done_rounds = [0]

    def on_evaluate(round: int, values: dict[str, float]) -> None:
        bar.update(round - done_rounds[0])
        done_rounds[0] = round
        shown = {k: f"{v:.3f}" for k, v in values.items() if k in ("accuracy", "rmse")}
        bar.set_postfix(sim_time=f"{sim.now_s:,.0f}s", rounds_completed=algo.rounds_completed,
                        **shown)

    algo.on_evaluate = on_evaluate
    main = sim.process(algo.run())
    max_time = scenario.stop.max_time_s
    with torch.random.fork_rng(devices=[]), bar:
        torch.manual_seed(scenario.seed)
        if max_time is None:
            sim.env.run(until=main)
        else:
            sim.env.run(until=sim.env.any_of([main, sim.env.timeout(max_time)]))
    stop_reason = outcome.stop_reason(scenario, main.triggered, algo.stopped_early)
    if main.triggered and not main.ok:  # pragma: no cover - surfaces algorithm bugs
        raise RuntimeError(f"the algorithm process failed: {main.value!r}")
    trace = sim.trace.to_frame()
    metrics = sim.metrics.to_frame()
    summary = summarize(scenario, world.num_parameters, world.payload_bytes, trace, metrics,
                        sim.now_s, time.perf_counter() - wall_start, stop_reason,
                        algo.rounds_completed)
    summary["train_flops_per_sample"] = world.train_flops_per_sample
    summary["num_clients"] = len(world.clients)
    summary["warnings"] = outcome.run_warnings(scenario, summary, world, metrics)
    details = algo.details()
    if details:
        summary["details"] = details
    return RunResult(scenario=scenario, trace=trace, metrics=metrics, summary=summary,
                     algorithm=algo)


def summarize(
    scenario: Scenario,
    num_parameters: int,
    payload_bytes: int,
    trace: pd.DataFrame,
    metrics: pd.DataFrame,
    simulated_s: float,
    wall_s: float,
    stop_reason: str,
    rounds_completed: int,
) -> dict[str, Any]:
    """Return the run summary: final metrics, times, bytes moved, event counts.

    ``final_metrics`` are those of the headline node (``final_metrics_node``: the global
    model, or the mean of the region models where there is none) at its last evaluation,
    taken at ``final_metrics_t_s`` (a run stopped by its time budget may have aggregated
    rounds since), with ``best_<metric>`` over the run. ``final_personalized_metrics`` are
    those of node ``personalized`` (each client's own model on its own test data, pooled)
    where the algorithm has such models. ``time_to_target_s`` gives, for each of
    ``output.metric_targets``, the simulated time the headline metric first met it (None:
    never); ``time_to_personalized_target_s`` the same for the personalized metrics.
    """
    node = headline_node(metrics["node"]) if len(metrics) else None
    final, final_t_s = final_and_best(metrics, node) if node is not None else ({}, None)
    personal, _ = final_and_best(metrics, "personalized")
    targets = {str(k): v for k, v in scenario.output.metric_targets.items()}
    extra: dict[str, Any] = {}
    if personal:
        extra["final_personalized_metrics"] = personal
    if targets:
        extra["time_to_target_s"] = (time_to_targets(metrics, node, targets)
                                     if node is not None else {})
        if personal:
            extra["time_to_personalized_target_s"] = time_to_targets(metrics, "personalized",
                                                                     targets)
    transfers = trace[trace["kind"] == "transfer"]
    by_link: Counter[str] = Counter()
    infos = transfers.groupby("info", sort=False, dropna=False)["bytes"].sum()  # parse once
    for info, nbytes in infos.items():
        by_link[_link_of(str(info))] += int(nbytes)
    return {
        "scenario": scenario.name,
        "algorithm": scenario.algorithm.name,
        "seed": scenario.seed,
        "stop_reason": stop_reason,
        "rounds_completed": int(rounds_completed),
        "final_metrics": final,
        "final_metrics_node": node,
        "final_metrics_t_s": final_t_s,
        **extra,
        "simulated_time_s": float(simulated_s),
        "wall_time_s": float(wall_s),
        "bytes_moved": int(transfers["bytes"].sum()),
        "bytes_by_link": dict(sorted(by_link.items())),
        "flops_computed": float(trace.loc[trace["kind"] == "compute", "flops"].sum()),
        "event_counts": {
            str(k): int(v) for k, v in trace["kind"].value_counts().sort_index().items()
        },
        "num_parameters": int(num_parameters),
        "payload_bytes": int(payload_bytes),
    }


def _link_of(info: str) -> str:
    import json

    try:
        return str(json.loads(info).get("link", "other")) if info else "other"
    except json.JSONDecodeError:
        return "other"
