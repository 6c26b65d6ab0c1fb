"""Tests of the run directory: files, contents, atomic completion marker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simfl.errors import SimflError
from simfl.runs.directory import (
    default_run_dir,
    read_run_tables,
    run_dir_lock,
    write_run_directory,
)
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from tests.conftest import SMALL_FEDAVG

REPO = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="module")
def two_runs() -> tuple[RunResult, RunResult]:
    """Two small runs that differ (seeds 3 and 4)."""
    first = scenario_from_text(SMALL_FEDAVG)
    return simulate(first), simulate(first.model_copy(update={"seed": 4}))


def test_a_used_run_directory_is_refused(two_runs: tuple[RunResult, RunResult],
                                         tmp_path: Path) -> None:
    run_dir = write_run_directory(two_runs[0], tmp_path / "run")
    with pytest.raises(SimflError, match=r"run: already holds files \(metrics.csv, "
                                         r"scenario.yaml, summary.json, trace.parquet\); give "
                                         "a new folder, or --overwrite"):
        write_run_directory(two_runs[1], run_dir)
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 3


def test_overwrite_replaces_a_previous_run_whole(two_runs: tuple[RunResult, RunResult],
                                                 tmp_path: Path) -> None:
    run_dir = write_run_directory(two_runs[0], tmp_path / "run")
    write_run_directory(two_runs[1], run_dir, overwrite=True)
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 4
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "trace.parquet"), two_runs[1].trace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no partial or old folders


def test_a_write_killed_midway_leaves_the_previous_run_whole(
    two_runs: tuple[RunResult, RunResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = write_run_directory(two_runs[0], tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while metrics.csv is written

    monkeypatch.setattr(pd.DataFrame, "to_csv", killed)
    with pytest.raises(KeyboardInterrupt):
        write_run_directory(two_runs[1], run_dir, overwrite=True)
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_overwrite_never_replaces_a_folder_that_is_not_a_run(
    two_runs: tuple[RunResult, RunResult], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SimflError, match=r"holds files that no run wrote \(notes.txt\), so it "
                                         "is not replaced"):
        write_run_directory(two_runs[0], tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_empty_existing_folder_takes_a_run(two_runs: tuple[RunResult, RunResult],
                                              tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    assert (write_run_directory(two_runs[0], tmp_path / "run") / "summary.json").is_file()


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with run_dir_lock(run_dir) as lock:
        assert lock.read_text() == f"{os.getpid()}\n"
        code = ("import sys\nfrom pathlib import Path\nfrom simfl.errors import SimflError\n"
                "from simfl.runs.directory import run_dir_lock\n"
                "try:\n    with run_dir_lock(Path(sys.argv[1])):\n        pass\n"
                "except SimflError as exc:\n    print(exc)\n    sys.exit(2)\n")
        other = subprocess.run([sys.executable, "-c", code, str(run_dir)], capture_output=True,
                               text=True, timeout=60, check=False,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
        assert other.returncode == 2
        assert other.stdout.startswith(f"{run_dir}: another simfl run is writing there")
    assert not lock.exists()
    with run_dir_lock(run_dir):  # free again once released
        pass


def test_default_run_dir_skips_a_name_another_run_has_locked(tmp_path: Path) -> None:
    first = default_run_dir(tmp_path, "x")
    with run_dir_lock(first):
        assert default_run_dir(tmp_path, "x") != first


def test_two_concurrent_cli_runs_into_one_folder_do_not_both_succeed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simfl.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(SMALL_FEDAVG)
    run_dir = tmp_path / "run"
    with run_dir_lock(run_dir):  # another process writing there
        assert main(["run", str(path), "-q", "--out", str(run_dir)]) == 2
    assert "another simfl run is writing there" in capsys.readouterr().err
    assert not run_dir.exists()


def test_reading_a_damaged_run_directory_names_each_file(
    two_runs: tuple[RunResult, RunResult], tmp_path: Path
) -> None:
    run_dir = write_run_directory(two_runs[0], tmp_path / "run")
    trace = run_dir / "trace.parquet"
    trace.write_bytes(trace.read_bytes()[:100])
    (run_dir / "metrics.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SimflError) as info:
        read_run_tables(run_dir)
    first, second = info.value.problems
    assert first.startswith(f"{trace}: cannot be read (") and first.endswith(
        "the file is damaged or cut short: run the scenario again")
    assert second == (f"{run_dir / 'metrics.csv'}: lacks the column(s) t_s, round, node, "
                      "metric, value (it has a, b); it was not written by 'simfl run' or was "
                      "edited: run the scenario again")
