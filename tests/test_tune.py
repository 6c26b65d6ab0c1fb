"""Tests of FedMeld's (delta, alpha) tuning under a latency budget."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simfl.cli import main
from simfl.errors import SimflError
from simfl.scenario.load import scenario_from_text
from simfl.studies import tune as tune_module
from simfl.studies.tune import tune_fedmeld
from tests.test_fedmeld import SMALL_FEDMELD


def _fake_evaluate(scenario, pairs, t_max_s, executor, workers, metric_node, progress,  # type: ignore[no-untyped-def]
                   store=None):
    rows = [{"round_interval": d, "mixing_ratio": a, "accuracy": -(a - 0.6) ** 2 - 0.01 * d}
            for d, a in pairs]
    return pd.DataFrame(rows)


def test_refine_search_finds_the_optimum_with_fewer_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tune_module, "_evaluate", _fake_evaluate)
    scenario = scenario_from_text(SMALL_FEDMELD)
    alphas = [i / 8 for i in range(9)]
    grid = tune_fedmeld(scenario, 3600, deltas=[1, 2, 4, 8], alphas=alphas, search="grid")
    refine = tune_fedmeld(scenario, 3600, deltas=[1, 2, 4, 8], alphas=alphas, search="refine")
    assert (grid.delta, grid.alpha) == (1, 0.625)
    assert (refine.delta, refine.alpha) == (1, 0.625)
    assert refine.runs < grid.runs == 36


def test_tune_rejects_a_budget_beyond_the_contact_plan() -> None:
    scenario = scenario_from_text(SMALL_FEDMELD)
    with pytest.raises(SimflError, match=r"exceeds space\.horizon_s"):
        tune_fedmeld(scenario, 10 * 24 * 3600.0)


def test_cli_tune_runs_simulations_and_draws_the_surface(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "fm.yaml"
    scenario.write_text(SMALL_FEDMELD)
    out = tmp_path / "tune"
    code = main(["tune", str(scenario), "--t-max", "90 min", "--deltas", "1,2", "--alphas",
                 "0,1", "--executor", "serial", "--out", str(out), "-q"])
    assert code == 0
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 4
    assert (out / "figures" / "surface.png").read_bytes()[:4] == b"\x89PNG"
    text = capsys.readouterr().out
    assert "chosen: round_interval (delta) =" in text
    best = table.loc[table["accuracy"].idxmax()]
    assert f"mixing_ratio (alpha) = {best['mixing_ratio']:g}" in text
