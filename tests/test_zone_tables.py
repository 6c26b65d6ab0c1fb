"""Tests of simfl.analysis.zone_tables: per-zone and per-algorithm tables of a comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from simfl.analysis.zone_tables import (
    algorithm_table,
    final_zone_values,
    improvement_pct,
    zone_table,
)
from simfl.errors import SimflError

PCT_TOL = 1e-9


def _metrics() -> pd.DataFrame:
    rows = []
    for algo, values in (("zone_fl", (10.0, 20.0)), ("sgfusion", (9.0, 22.0))):
        for t, scale in ((0.0, 2.0), (5.0, 1.0)):  # the last evaluation counts
            for zone, v in zip(("a", "b"), values, strict=True):
                rows.append((algo, t, int(t), f"zone:{zone}", "rmse", v * scale))
    return pd.DataFrame(rows, columns=["algorithm", "t_s", "round", "node", "metric", "value"])


def _summary(rmse: float, sampled: float) -> dict[str, object]:
    return {"final_metrics": {"rmse": rmse}, "rounds_completed": 5, "simulated_time_s": 10.0,
            "bytes_moved": 1000, "details": {"mean_sampled_zones": sampled}}


def test_improvement_is_positive_when_better() -> None:
    assert improvement_pct(9.0, 10.0, "rmse") == pytest.approx(10.0, abs=PCT_TOL)
    assert improvement_pct(0.9, 0.8, "accuracy") == pytest.approx(12.5, abs=PCT_TOL)


def test_final_values_are_each_zones_last() -> None:
    final = final_zone_values(_metrics(), "rmse")
    assert final.values.tolist() == [["zone_fl", "a", 10.0], ["zone_fl", "b", 20.0],
                                     ["sgfusion", "a", 9.0], ["sgfusion", "b", 22.0]]


def test_no_zone_rows_is_explained() -> None:
    with pytest.raises(SimflError, match=r"no zone:<name> rows of metric 'accuracy'"):
        final_zone_values(_metrics(), "accuracy")


def test_zone_table_compares_each_zone_with_the_baseline() -> None:
    table = zone_table(final_zone_values(_metrics(), "rmse"), "rmse", "zone_fl", {"a": "x"})
    assert table.columns.tolist() == ["zone", "country", "zone_fl", "sgfusion",
                                      "sgfusion_improvement_pct"]
    assert table["sgfusion_improvement_pct"].tolist() == pytest.approx([10.0, -10.0])
    assert table["country"].tolist() == ["x", ""]


def test_algorithm_table_counts_improved_zones_and_costs_per_round() -> None:
    table = zone_table(final_zone_values(_metrics(), "rmse"), "rmse", "zone_fl")
    runs = [("zone_fl", _summary(15.0, 0.0)), ("sgfusion", _summary(14.4, 2.5))]
    algos = algorithm_table(runs, table, "rmse", "zone_fl").set_index("algorithm")
    assert algos.loc["sgfusion", "pooled_improvement_pct"] == pytest.approx(4.0)
    assert algos.loc["sgfusion", "zones_improved"] == "1/2"
    assert algos.loc["sgfusion", "mean_sampled_zones"] == 2.5
    assert algos.loc["zone_fl", "simulated_s_per_round"] == pytest.approx(2.0)
    assert algos.loc["zone_fl", "bytes_per_round"] == pytest.approx(200.0)
