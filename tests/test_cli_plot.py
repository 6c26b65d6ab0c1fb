"""Tests of `simfl plot`: redraw a run directory's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.cli import main
from simfl.runs.directory import write_run_directory
from simfl.runs.runner import simulate
from simfl.scenario.schema import Scenario


@pytest.fixture
def run_dir(small_fedavg: Scenario, tmp_path: Path) -> Path:
    return write_run_directory(simulate(small_fedavg), tmp_path / "run")


def test_plot_redraws_figures_with_options(run_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figs"
    code = main(["plot", str(run_dir), "--metric", "loss", "--t-range", "0,3", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["loss_vs_time.png", "timeline_0-3s.png"]
    assert str(out / "loss_vs_time.png") in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--metric", "rmse"], "'rmse' is not in this run; it has accuracy, bytes_moved, loss"),
    (["--t-range", "5"], "write START_S,END_S"),
    (["--t-range", "5,1"], "END_S must be after START_S"),
    (["--t-range", "0,nan"], "END_S must be after START_S, both finite"),
])
def test_plot_bad_options_exit_2(run_dir: Path, args: list[str], message: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(run_dir), *args]) == 2
    assert message in capsys.readouterr().err


def test_plot_of_a_directory_that_is_not_a_run(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a run directory (missing trace.parquet, metrics.csv)" in capsys.readouterr().err
