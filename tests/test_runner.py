"""Tests of the runner: determinism across runs and seeds, summary contents."""

from __future__ import annotations

import pandas as pd

from simfl.runs.runner import simulate
from simfl.scenario.schema import Scenario


def test_same_seed_gives_identical_trace_and_metrics(small_fedavg: Scenario) -> None:
    a, b = simulate(small_fedavg), simulate(small_fedavg)
    pd.testing.assert_frame_equal(a.trace, b.trace)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    drop_wall = lambda s: {k: v for k, v in s.items() if k != "wall_time_s"}  # noqa: E731
    assert drop_wall(a.summary) == drop_wall(b.summary)


def test_same_seed_is_deterministic_for_hierarchical(small_hierarchical: Scenario) -> None:
    a, b = simulate(small_hierarchical), simulate(small_hierarchical)
    pd.testing.assert_frame_equal(a.trace, b.trace)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)


def test_different_seed_gives_a_different_run(small_fedavg: Scenario) -> None:
    a = simulate(small_fedavg)
    b = simulate(small_fedavg.model_copy(update={"seed": small_fedavg.seed + 1}))
    assert not a.trace.equals(b.trace)
    assert not a.metrics["value"].equals(b.metrics["value"])


def test_summary_counts_match_the_trace(small_fedavg: Scenario) -> None:
    result = simulate(small_fedavg)
    s, trace = result.summary, result.trace
    assert s["event_counts"] == trace["kind"].value_counts().to_dict()
    assert s["bytes_moved"] == int(trace.loc[trace["kind"] == "transfer", "bytes"].sum())
    assert sum(s["bytes_by_link"].values()) == s["bytes_moved"]
    assert s["simulated_time_s"] == trace["t_end_s"].max()
    assert s["rounds_completed"] == 6
    assert 0.0 <= s["final_metrics"]["accuracy"] <= 1.0
