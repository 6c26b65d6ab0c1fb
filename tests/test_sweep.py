"""Tests of sweeps: axes, grids, result tables, the sweep directory, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from simfl.cli import main
from simfl.errors import SimflError
from simfl.scenario.schema import Scenario
from simfl.studies.sweep import grid, label_of, parse_set, run_sweep, write_sweep


def test_parse_set_reads_values_as_yaml() -> None:
    assert parse_set("algorithm.mixing_ratio=0,0.5,1") == ("algorithm.mixing_ratio",
                                                           [0, 0.5, 1])
    assert parse_set("model.kind=mlp,logreg") == ("model.kind", ["mlp", "logreg"])
    with pytest.raises(SimflError, match=r"write it as a\.b\.c=v1,v2"):
        parse_set("training.lr")


def test_grid_is_the_cartesian_product(small_fedavg: Scenario) -> None:
    points = grid(small_fedavg, {"training.lr": [0.05, 0.1], "seed": [1, 2, 3]})
    assert len(points) == 6
    assert {(v["training.lr"], v["seed"]) for v, _ in points} == {
        (lr, s) for lr in (0.05, 0.1) for s in (1, 2, 3)}
    assert all(s.training.lr == v["training.lr"] and s.seed == v["seed"] for v, s in points)
    assert label_of(points[0][0]) == "lr=0.05,seed=1"


def test_grid_over_algorithms(small_fedavg: Scenario) -> None:
    points = grid(small_fedavg, {}, algorithms=["fedavg", "hierarchical"])
    assert [s.algorithm.name for _, s in points] == ["fedavg", "hierarchical"]


def test_serial_sweep_matches_single_runs(small_fedavg: Scenario, tmp_path: Path) -> None:
    from simfl.runs.runner import simulate

    points = grid(small_fedavg, {"seed": [3, 4]})
    results, metrics = run_sweep(points, executor="serial", progress=False)
    assert list(results["run"]) == ["seed=3", "seed=4"]
    alone = simulate(points[1][1]).summary["final_metrics"]["accuracy"]
    assert results.loc[1, "final_accuracy"] == alone
    assert set(metrics["run"]) == {"seed=3", "seed=4"}
    out = write_sweep(tmp_path / "s", results, metrics, {"runs": 2})
    assert json.loads((out / "sweep.json").read_text())["runs"] == 2
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), results,
                                  check_dtype=False)


def test_cli_sweep_writes_results_and_figures(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    out = tmp_path / "sweep"
    code = main(["sweep", str(scenario), "--set", "training.lr=0.05,0.2", "--set",
                 "partition.alpha=0.3,3", "--executor", "serial", "--out", str(out), "-q"])
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 4
    assert (out / "figures" / "surface.png").exists()
    assert (out / "figures" / "accuracy_vs_time.png").exists()
    assert "sweep directory" in capsys.readouterr().out


def test_cli_sweep_without_axes_is_an_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    assert main(["sweep", str(scenario), "--out", str(tmp_path / "x")]) == 2
    assert "at least one --set" in capsys.readouterr().err


def test_cli_compare_times_runs_to_a_target(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    out = tmp_path / "cmp"
    code = main(["compare", str(scenario), "--algorithms", "fedavg,hierarchical",
                 "--target", "accuracy=0.2,0.99", "--executor", "serial", "--out", str(out),
                 "-q"])
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    assert {"final_accuracy", "best_accuracy", "time_to_accuracy_0.2_s",
            "time_to_accuracy_0.99_s"} <= set(results.columns)
    assert results["time_to_accuracy_0.99_s"].isna().all()
    assert (out / "figures" / "latency_vs_metric.png").exists()


def test_cli_target_must_name_a_metric(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    code = main(["compare", str(scenario), "--algorithms", "fedavg", "--target", "acc=1",
                 "--out", str(tmp_path / "x"), "-q"])
    assert code == 2
    assert "--target 'acc=1': write METRIC=V1,V2" in capsys.readouterr().err


def test_cli_compare_writes_compare_json(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG.replace("rounds: 6", "rounds: 1"))
    out = tmp_path / "compare"
    code = main(["compare", str(scenario), "--algorithms", "fedavg,hierarchical",
                 "--executor", "serial", "--out", str(out), "-q"])
    assert code == 0
    assert json.loads((out / "compare.json").read_text())["algorithms"] == ["fedavg",
                                                                           "hierarchical"]
    assert not (out / "sweep.json").exists()
    capsys.readouterr()


def test_sweep_values_are_read_like_scenario_values() -> None:
    assert parse_set("training.lr=1e-3,0.1") == ("training.lr", [1e-3, 0.1])


def test_a_study_stores_each_run_and_resumes_only_the_missing(
        tmp_path: Path, small_fedavg: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    from simfl.studies import sweep as sweep_module
    from simfl.studies.store import RunStore

    points = grid(small_fedavg, {"training.lr": [0.05, 0.1, 0.2]})
    store = RunStore(tmp_path)
    calls: list[str] = []
    real_run_job = sweep_module.run_jobs

    def failing_third(jobs, **kwargs):  # type: ignore[no-untyped-def]
        def job_fn(label: str, data: dict) -> object:  # type: ignore[type-arg]
            calls.append(label)
            if "0.2" in label:
                raise RuntimeError("this variant crashed")
            from simfl.studies.executors import run_job
            return run_job(label, data)
        return real_run_job(jobs, **{**kwargs, "job_fn": job_fn, "executor": "serial"})

    monkeypatch.setattr(sweep_module, "run_jobs", failing_third)
    with pytest.raises(RuntimeError, match="crashed"):
        run_sweep(points, executor="serial", progress=False, store=store)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2  # the finished ones are kept
    monkeypatch.setattr(sweep_module, "run_jobs", real_run_job)
    calls.clear()
    monkeypatch.setattr(sweep_module, "run_jobs", lambda jobs, **kw: (
        calls.extend(label for label, _ in jobs), real_run_job(jobs, **kw))[1])
    results, _ = run_sweep(points, executor="serial", progress=False, store=store)
    assert calls == ["lr=0.2"]  # only the missing variant ran again
    assert list(results["run"]) == ["lr=0.05", "lr=0.1", "lr=0.2"]


def test_cli_compare_draws_personalized_accuracy_of_the_runs_that_have_it(
        tmp_path: Path) -> None:
    from tests.personal_world import TWO_LABELS

    scenario = tmp_path / "s.yaml"
    scenario.write_text(TWO_LABELS.replace("algorithm: {name: local}",
                                           "algorithm: {name: local, rounds: 1}"))
    out = tmp_path / "cmp"
    code = main(["compare", str(scenario), "--algorithms", "local,fedavg", "--executor",
                 "serial", "--out", str(out), "-q"])
    assert code == 0
    results = pd.read_csv(out / "results.csv").set_index("algorithm")
    assert results["final_personalized_accuracy"].notna().tolist() == [True, False]
    assert (out / "figures" / "personalized_accuracy_vs_time.png").exists()


def _finished_local_study(tmp_path: Path) -> tuple[list[str], Path]:
    """Run a one-round compare of ``local`` into tmp_path/cmp; return its arguments and out."""
    from tests.personal_world import TWO_LABELS

    scenario = tmp_path / "s.yaml"
    scenario.write_text(TWO_LABELS.replace("algorithm: {name: local}",
                                           "algorithm: {name: local, rounds: 1}"))
    out = tmp_path / "cmp"
    study = ["compare", str(scenario), "--algorithms", "local", "--executor", "serial",
             "--out", str(out), "-q"]
    assert main(study) == 0
    return study, out


def test_a_study_refuses_an_out_folder_that_holds_another_study(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study, out = _finished_local_study(tmp_path)
    before = (out / "results.csv").read_text()
    capsys.readouterr()
    assert main([*study[:3], "fedavg", *study[4:]]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: already holds a study (compare.json" in err
    assert f"--resume {out} to continue that study, or --overwrite to replace it" in err
    assert (out / "results.csv").read_text() == before  # nothing was touched
    assert main([*study[:3], "fedavg", *study[4:], "--overwrite"]) == 0
    assert pd.read_csv(out / "results.csv")["algorithm"].tolist() == ["fedavg"]
    assert len(list((out / "runs").glob("*.json"))) == 1  # the old study's run is gone


def test_a_study_does_not_write_into_a_folder_of_other_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.personal_world import TWO_LABELS

    scenario = tmp_path / "s.yaml"
    scenario.write_text(TWO_LABELS)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main(["compare", str(scenario), "--algorithms", "fedavg", "--out", str(mine),
                 "--overwrite"]) == 2
    assert "holds files that no study wrote (notes.txt), so it is not used" in (
        capsys.readouterr().err)
    assert (mine / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("extra", ["runs/notes.txt", "figures/draft.svg", "mycode.py"])
def test_overwrite_never_removes_a_file_no_study_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str) -> None:
    study, out = _finished_local_study(tmp_path)
    (out / extra).write_text("mine")
    capsys.readouterr()
    assert main([*study, "--overwrite"]) == 2
    assert f"holds files that no study wrote ({extra}), so it is not used" in (
        capsys.readouterr().err)
    assert (out / extra).read_text() == "mine" and (out / "compare.json").exists()


def test_a_study_never_writes_into_the_working_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.personal_world import TWO_LABELS

    (tmp_path / "s.yaml").write_text(TWO_LABELS)
    (tmp_path / "runs").mkdir()  # as a project root with simfl run's default folder
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "s.yaml", "--algorithms", "local", "--out", ".",
                 "--overwrite"]) == 2
    assert "holds files that no study wrote (the working folder itself, " in (
        capsys.readouterr().err)
    assert (tmp_path / "s.yaml").exists()


def test_resume_and_overwrite_together_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.personal_world import TWO_LABELS

    (tmp_path / "s.yaml").write_text(TWO_LABELS)
    assert main(["compare", str(tmp_path / "s.yaml"), "--algorithms", "local", "--resume",
                 str(tmp_path), "--overwrite"]) == 2
    assert "give only one of them" in capsys.readouterr().err


def test_a_sweep_names_the_variant_that_diverged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL_FEDAVG

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_FEDAVG)
    code = main(["sweep", str(scenario), "--set", "training.lr=0.05,1e6", "--executor",
                 "serial", "--out", str(tmp_path / "sw"), "-q"])
    assert code == 0
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: lr=1000000.0: training diverged: ")
