"""Tests of simfl.analysis.outcomes: final and best values, time to each target."""

from __future__ import annotations

import pandas as pd

from simfl.analysis.outcomes import final_and_best, target_label, time_to_targets


def frame(rows: list[tuple[float, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(t, 0, node, m, v) for t, node, m, v in rows],
                        columns=["t_s", "round", "node", "metric", "value"])


METRICS = frame([(0.0, "global", "accuracy", 0.2), (0.0, "global", "loss", 2.0),
                 (5.0, "global", "accuracy", 0.9), (5.0, "global", "loss", 0.5),
                 (9.0, "global", "accuracy", 0.85), (9.0, "global", "loss", 0.7),
                 (9.0, "personalized", "accuracy", 0.95)])


def test_final_values_are_the_last_and_best_is_best_for_each_metric() -> None:
    final, t_s = final_and_best(METRICS, "global")
    assert t_s == 9.0
    assert final == {"accuracy": 0.85, "loss": 0.7, "best_accuracy": 0.9, "best_loss": 0.5}


def test_a_node_without_metrics_has_no_final_values() -> None:
    assert final_and_best(METRICS, "region_mean") == ({}, None)


def test_time_to_target_is_the_first_time_it_was_met() -> None:
    out = time_to_targets(METRICS, "global", {"accuracy": [0.5, 0.99], "loss": [1.0]})
    assert out == {"accuracy>=0.5": 5.0, "accuracy>=0.99": None, "loss<=1": 5.0}


def test_rmse_targets_are_met_from_below() -> None:
    assert target_label("rmse", 12.0) == "rmse<=12"
    rmse = frame([(1.0, "global", "rmse", 20.0), (2.0, "global", "rmse", 11.0)])
    assert time_to_targets(rmse, "global", {"rmse": [12.0]}) == {"rmse<=12": 2.0}


def test_pareto_front_keeps_runs_nobody_beats_on_both() -> None:
    from simfl.analysis.outcomes import pareto_front

    times = [10.0, 20.0, 15.0, None, 30.0]
    accuracy = [0.80, 0.90, 0.70, 0.95, 0.85]
    # run 2 is slower and worse than run 0; run 4 slower and worse than run 1
    assert pareto_front(times, accuracy, "accuracy") == [0, 1, 3]
    assert pareto_front([5.0, 5.0], [12.0, 10.0], "rmse") == [1]
