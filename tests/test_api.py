"""Tests of the front door (simfl.runs.api re-exported by simfl): load, simulate, write, read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import simfl
from simfl.errors import SimflError
from tests.conftest import REPO, SMALL_FEDAVG


def test_front_door_names_are_all_importable() -> None:
    for name in simfl.__all__:
        assert getattr(simfl, name) is not None, name


def test_importing_simfl_is_light() -> None:
    code = ("import sys, simfl; print(sorted(m for m in ('torch', 'pandas', 'matplotlib', "
            "'simpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_load_scenario_takes_text_or_a_path() -> None:
    from_text = simfl.load_scenario(SMALL_FEDAVG, overrides=["algorithm.rounds=2"], seed=9)
    from_file = simfl.load_scenario(REPO / "scenarios" / "quickstart.yaml")
    assert (from_text.algorithm.rounds, from_text.seed) == (2, 9)
    assert from_file.name == "quickstart"


def test_load_scenario_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SimflError, match=r"nope.yaml: does not exist; give a scenario YAML"):
        simfl.load_scenario(str(tmp_path / "nope.yaml"))


def test_read_run_is_the_inverse_of_write_run(tmp_path: Path) -> None:
    result = simfl.simulate(simfl.load_scenario(SMALL_FEDAVG, overrides=["algorithm.rounds=2"]))
    run_dir = simfl.write_run(result, tmp_path / "run")
    again = simfl.read_run(run_dir)
    assert again.scenario == result.scenario
    assert again.summary == result.summary
    pd.testing.assert_frame_equal(again.trace, result.trace)
    pd.testing.assert_frame_equal(again.metrics, result.metrics)


def test_read_run_refuses_an_unfinished_directory(tmp_path: Path) -> None:
    result = simfl.simulate(simfl.load_scenario(SMALL_FEDAVG, overrides=["algorithm.rounds=1"]))
    run_dir = simfl.write_run(result, tmp_path / "run")
    (run_dir / "summary.json").unlink()
    with pytest.raises(SimflError, match=r"missing summary.json\); it was not written to the "):
        simfl.read_run(run_dir)


def test_read_run_explains_a_damaged_scenario_file(tmp_path: Path) -> None:
    result = simfl.simulate(simfl.load_scenario(SMALL_FEDAVG, overrides=["algorithm.rounds=1"]))
    run_dir = simfl.write_run(result, tmp_path / "run")
    (run_dir / "scenario.yaml").write_text("name: [unclosed\n")
    with pytest.raises(SimflError, match=r"cannot read the run directory .*; it may be damaged"):
        simfl.read_run(run_dir)


def test_compare_returns_one_tidy_frame() -> None:
    scenario = simfl.load_scenario(SMALL_FEDAVG, overrides=["algorithm.rounds=2"])
    frame = simfl.compare(scenario, algorithms=["fedavg", "hierarchical"])
    assert list(frame.columns) == ["algorithm", "t_s", "round", "node", "metric", "value"]
    assert set(frame["algorithm"]) == {"fedavg", "hierarchical"}
    runs = frame[frame["node"] == "run"]
    assert set(runs[runs["metric"] == "bytes_moved"]["algorithm"]) == {"fedavg", "hierarchical"}
    accuracy = frame[(frame["node"] == "global") & (frame["metric"] == "accuracy")]
    assert accuracy.groupby("algorithm")["value"].count().min() >= 2


def test_cli_help_is_light() -> None:
    code = ("import sys\nfrom simfl import cli\ntry:\n    cli.main(['--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('numpy', 'pydantic', 'torch') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_validating_a_space_scenario_loads_no_pandas_or_torch() -> None:
    code = ("import sys\nfrom simfl.scenario.load import load_scenario\n"
            f"load_scenario({str(REPO / 'scenarios' / 'fedmeld_demo.yaml')!r})\n"
            "print(sorted(m for m in ('pandas', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
