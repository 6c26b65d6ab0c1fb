"""Tests of simfl.runs.checkpoint: a killed run resumes to the result of an uninterrupted one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simfl.cli import main
from simfl.errors import SimflError
from simfl.runs.checkpoint import Checkpointer, checkpoint_folder
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from tests.conftest import REPO, SMALL_FEDAVG, SMALL_SPACE


class KilledError(Exception):
    """Stands for the process dying at a checkpoint."""


def run_killed_after(scenario: Scenario, run_dir: Path, checkpoints: int,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with checkpoints and die right after the ``checkpoints``-th one is written."""
    original = Checkpointer.write

    def write_then_die(self: Checkpointer, t_s: float) -> None:
        original(self, t_s)
        if self.checkpoints >= checkpoints:
            raise KilledError

    with monkeypatch.context() as m:
        m.setattr(Checkpointer, "write", write_then_die)
        with pytest.raises(KilledError):
            simulate(scenario, checkpoint=Checkpointer.start(run_dir, scenario))


def assert_same_run(a: RunResult, b: RunResult) -> None:
    pd.testing.assert_frame_equal(a.trace, b.trace)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    for key in ("final_metrics", "simulated_time_s", "bytes_by_link", "event_counts"):
        assert a.summary[key] == b.summary[key], key


@pytest.mark.parametrize("kill_at", [2, 4, 7])
def test_fedavg_killed_at_a_checkpoint_resumes_to_the_same_result(
        kill_at: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = scenario_from_text(SMALL_FEDAVG, ["output.checkpoint_every_s=1"])
    uninterrupted = simulate(scenario)
    run_killed_after(scenario, tmp_path / "run", kill_at, monkeypatch)
    point, stored = Checkpointer.resume(tmp_path / "run")
    loaded = point.jobs_stored
    assert stored == scenario and loaded > 0
    resumed = simulate(stored, checkpoint=point)
    assert_same_run(resumed, uninterrupted)
    assert point.memo.hits == loaded  # every stored job was reused, not trained again


def test_a_region_algorithm_resumes_to_the_same_result(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = scenario_from_text(SMALL_SPACE, ["output.checkpoint_every_s=15 min"])
    uninterrupted = simulate(scenario)
    run_killed_after(scenario, tmp_path / "run", 2, monkeypatch)
    point, stored = Checkpointer.resume(tmp_path / "run")
    assert_same_run(simulate(stored, checkpoint=point), uninterrupted)
    assert point.memo.hits > 0


def test_resume_without_a_checkpoint_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SimflError, match=r"nothing to resume .* output.checkpoint_every_s"):
        Checkpointer.resume(tmp_path / "run")


def test_a_finished_run_leaves_no_checkpoint(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    assert main(["run", str(scenario), "-o", "output.checkpoint_every_s=1", "--out",
                 str(tmp_path / "run"), "-q"]) == 0
    assert (tmp_path / "run" / "summary.json").is_file()
    assert not checkpoint_folder(tmp_path / "run").exists()


def test_resume_takes_no_other_arguments(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "x.yaml", "--resume", str(tmp_path / "run")]) == 2
    assert "--resume RUN_DIR continues a run as it was started" in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_summary(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG.replace("rounds: 6", "rounds: 20")
                        .replace("output: {figures: false}",
                                 "output: {figures: false, checkpoint_every_s: 2}"))
    cmd = [sys.executable, "-m", "simfl.cli", "run", "-q"]
    subprocess.run([*cmd, str(scenario), "--out", str(tmp_path / "whole")], check=True,
                   cwd=REPO)
    run_dir = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, str(scenario), "--out", str(run_dir)], cwd=REPO)
    state = checkpoint_folder(run_dir) / "checkpoint.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if state.is_file() and json.loads(state.read_text())["shards"]:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "summary.json").exists()
    subprocess.run([*cmd, "--resume", str(run_dir)], check=True, cwd=REPO)
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    resumed = json.loads((run_dir / "summary.json").read_text())
    whole.pop("wall_time_s"), resumed.pop("wall_time_s")
    assert resumed == whole
