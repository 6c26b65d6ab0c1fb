"""Tests of simfl.runs.outcome: honest stop reasons and warnings about meaningless runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simfl.cli import main
from simfl.runs.outcome import stop_reason
from simfl.runs.runner import simulate
from simfl.scenario.load import scenario_from_text
from tests.conftest import SMALL_FEDAVG
from tests.test_preflight import SPACE


def test_a_spent_round_budget_is_rounds() -> None:
    assert stop_reason(scenario_from_text(SMALL_FEDAVG), True, False) == "rounds"


def test_a_reached_target_is_target_accuracy() -> None:
    assert stop_reason(scenario_from_text(SMALL_FEDAVG), True, True) == "target_accuracy"


def test_stop_max_time_is_the_time_budget() -> None:
    assert stop_reason(scenario_from_text(SMALL_FEDAVG), False, False) == "time_budget"


def test_the_end_of_a_space_algorithms_duration_is_the_time_budget() -> None:
    assert stop_reason(scenario_from_text(SPACE), True, False) == "time_budget"


def test_a_run_where_every_client_is_dropped_says_so() -> None:
    dropped = SMALL_FEDAVG.replace("deadline_s: 1.5", "deadline_s: 1 us")
    summary = simulate(scenario_from_text(dropped)).summary
    assert (summary["rounds_completed"], summary["stop_reason"]) == (0, "rounds")
    [warning] = summary["warnings"]
    assert warning.startswith("no round completed in ")
    assert "every sampled client may miss algorithm.deadline_s" in warning


def test_a_region_that_never_sees_a_satellite_is_named() -> None:
    polar = SPACE.replace("{name: b, lat_deg: 10, lon_deg: 10}", "{name: b, lat_deg: 89, "
                                                                 "lon_deg: 10}")
    summary = simulate(scenario_from_text(polar)).summary
    assert summary["warnings"] == [
        "region b saw no satellite above the elevation mask in 1 h simulated, so their devices "
        "never trained; lower elevation_mask_deg, move the regions under the ground track, or "
        "use more satellites or a longer run"]


def test_the_cli_prints_the_run_warnings(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SMALL_FEDAVG.replace("deadline_s: 1.5", "deadline_s: 1 us"))
    assert main(["run", str(path), "-q", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line[:27] for line in err] == ["warning: no round completed"]
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["warnings"][0].startswith("no round completed")


def test_a_diverged_run_says_so_with_the_learning_rate() -> None:
    summary = simulate(scenario_from_text(SMALL_FEDAVG, overrides=["training.lr=1e6"])).summary
    [warning] = summary["warnings"]
    assert warning.startswith("training diverged: the evaluated loss or RMSE became "
                              "non-finite or over 100x its first value at node global at t=")
    assert "lower the learning rate: training.lr (now 1e+06), or the local steps" in warning


def test_a_divergence_warning_names_the_algorithms_own_learning_rate() -> None:
    from tests.personal_world import TWO_LABELS

    text = TWO_LABELS.replace("algorithm: {name: local}",
                              "algorithm: {name: local, rounds: 2, lr: 1.0e+6}")
    [warning] = simulate(scenario_from_text(text)).summary["warnings"]
    assert "algorithm.lr (now 1e+06)" in warning


def test_a_healthy_run_has_no_divergence_warning() -> None:
    assert simulate(scenario_from_text(SMALL_FEDAVG)).summary["warnings"] == []


def test_non_finite_losses_are_divergence_and_rising_accuracy_is_not() -> None:
    import pandas as pd

    from simfl.runs.outcome import divergence_warnings

    def frame(rows: list[tuple[float, int, str, str, float]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["t_s", "round", "node", "metric", "value"])

    nan = frame([(0.0, 0, "global", "loss", 2.3), (5.0, 1, "global", "loss", float("nan")),
                 (9.0, 2, "region-1", "rmse", float("inf"))])
    [warning] = divergence_warnings(nan, {"training.lr": 0.05})
    assert "node global at t=5 s (round 1: loss nan), node region-1 at t=9 s" in warning
    fine = frame([(0.0, 0, "global", "loss", 2.3), (5.0, 1, "global", "loss", 50.0),
                  (5.0, 1, "global", "accuracy", 1e9)])
    assert divergence_warnings(fine, {"training.lr": 0.05}) == []
