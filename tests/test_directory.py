"""Tests of the run directory: files, contents, atomic completion marker."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simfl.runs.directory import default_run_dir, write_run_directory
from simfl.runs.runner import simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario


def test_run_directory_has_every_output(small_fedavg: Scenario, tmp_path: Path) -> None:
    scenario = small_fedavg.model_copy(update={"output": small_fedavg.output.model_copy(
        update={"figures": True})})
    result = simulate(scenario)
    run_dir = write_run_directory(result, tmp_path / "run")
    names = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert names == ["figures/accuracy_vs_time.png", "figures/timeline.png", "metrics.csv",
                     "scenario.yaml", "summary.json", "trace.parquet"]
    for png in run_dir.glob("figures/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "trace.parquet"), result.trace)
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert list(metrics.columns) == ["t_s", "round", "node", "metric", "value"]
    assert json.loads((run_dir / "summary.json").read_text())["bytes_moved"] == \
        result.summary["bytes_moved"]


def test_resolved_scenario_reloads_to_the_same_scenario(small_fedavg: Scenario,
                                                        tmp_path: Path) -> None:
    run_dir = write_run_directory(simulate(small_fedavg), tmp_path / "run")
    text = (run_dir / "scenario.yaml").read_text()
    assert scenario_from_text(text) == small_fedavg
    assert yaml.safe_load(text)["algorithm"]["deadline_s"] == 1.5


def test_a_failed_write_leaves_no_summary(small_fedavg: Scenario, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    result = simulate(small_fedavg)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_run_directory(result, tmp_path / "run")
    assert not (tmp_path / "run" / "summary.json").exists()
    assert not (tmp_path / "run" / "metrics.csv").exists()
    assert not list((tmp_path / "run").glob(".*partial*"))


def test_default_run_dir_never_reuses_a_directory(tmp_path: Path) -> None:
    first = default_run_dir(tmp_path, "x")
    first.mkdir()
    second = default_run_dir(tmp_path, "x")
    assert second != first and second.name.startswith(first.name)
