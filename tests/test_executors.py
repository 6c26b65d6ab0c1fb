"""Tests of the executors: local processes and a real (locally started) Ray cluster."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simfl.errors import SimflError
from simfl.scenario.schema import Scenario
from simfl.studies.executors import JobResult, run_jobs
from simfl.studies.sweep import grid, label_of

REPO = Path(__file__).resolve().parents[1]


def _jobs(scenario: Scenario) -> list[tuple[str, dict[str, object]]]:
    points = grid(scenario, {"seed": [3, 4]})
    return [(label_of(v), s.model_dump(mode="json")) for v, s in points]


@pytest.fixture(scope="module")
def serial_results(request: pytest.FixtureRequest) -> list[dict[str, object]]:
    from simfl.scenario.load import scenario_from_text
    from tests.conftest import SMALL_FEDAVG

    scenario = scenario_from_text(SMALL_FEDAVG)
    return [r.summary for r in run_jobs(_jobs(scenario), executor="serial", progress=False)]


def _same(a: dict[str, object], b: dict[str, object]) -> bool:
    drop = {"wall_time_s"}
    return {k: v for k, v in a.items() if k not in drop} == \
        {k: v for k, v in b.items() if k not in drop}


def test_local_processes_reproduce_serial_runs(small_fedavg: Scenario,
                                               serial_results: list[dict[str, object]]) -> None:
    results = run_jobs(_jobs(small_fedavg), executor="local", workers=2, progress=False)
    assert [r.label for r in results] == ["seed=3", "seed=4"]
    assert all(_same(r.summary, s) for r, s in zip(results, serial_results, strict=True))


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_ray_cluster_reproduces_serial_runs(small_fedavg: Scenario,
                                            serial_results: list[dict[str, object]]) -> None:
    results = run_jobs(_jobs(small_fedavg), executor="ray", workers=2, progress=False)
    assert [r.label for r in results] == ["seed=3", "seed=4"]
    assert all(_same(r.summary, s) for r, s in zip(results, serial_results, strict=True))


def sleep_job(label: str, data: dict[str, object]) -> JobResult:
    """A job that records its process id in ``data["dir"]`` and sleeps (for signal tests)."""
    (Path(str(data["dir"])) / f"{os.getpid()}.pid").write_text(label)
    time.sleep(float(data.get("sleep_s", 60.0)))  # type: ignore[arg-type]
    return JobResult(label, {}, pd.DataFrame())


_SWEEP_SCRIPT = """
import signal
import sys
from simfl.studies.executors import run_jobs
from tests.test_executors import sleep_job
jobs = [(str(k), {"dir": sys.argv[1]}) for k in range(4)]
try:
    run_jobs(jobs, executor="local", workers=2, progress=False, job_fn=sleep_job)
except KeyboardInterrupt:  # as simfl.cli.main does
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("interrupted", file=sys.stderr)
    sys.exit(130)
"""
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


def _alive(pid: int) -> bool:
    """Return whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """Start a 2-worker sweep of sleeping jobs; return it and its workers once both run."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _SWEEP_SCRIPT, str(tmp_path)], env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while len(list(tmp_path.glob("*.pid"))) < 2:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    return proc, [int(p.stem) for p in tmp_path.glob("*.pid")]


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_stops_a_local_sweep_and_its_workers_at_once(tmp_path: Path) -> None:
    proc, workers = _start_sweep(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # an impatient second Ctrl-C
    _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert _wait_gone(workers) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_killing_the_sweep_process_leaves_no_worker(tmp_path: Path) -> None:
    proc, _ = _start_sweep(tmp_path)
    helpers = _children(proc.pid)  # the workers and multiprocessing's resource tracker
    assert len(helpers) >= 2
    proc.kill()
    proc.communicate(timeout=STOP_TIMEOUT_S)
    assert _wait_gone(helpers) == []


def test_zero_workers_is_refused_before_any_run() -> None:
    with pytest.raises(SimflError, match="workers = 0: give 1 or more parallel runs"):
        run_jobs([("a", {}), ("b", {})], executor="local", workers=0, progress=False)


def test_ray_executor_without_ray_is_refused_even_for_one_job(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(SimflError, match="the ray executor needs Ray"):
        run_jobs([("a", {})], executor="ray", progress=False)


def test_a_failing_job_stops_the_pool_and_raises_its_error(tmp_path: Path) -> None:
    jobs = [("ok", {"dir": str(tmp_path), "sleep_s": 30.0}), ("bad", {"fail": True})]
    started = time.monotonic()
    with pytest.raises(SimflError, match="job bad: planned failure") as info:
        run_jobs(jobs, executor="local", workers=2, progress=False, job_fn=failing_job)
    assert info.value.problems == ["job bad: planned failure", "second line"]
    assert time.monotonic() - started < 25.0  # the sleeping job was not waited for


def failing_job(label: str, data: dict[str, object]) -> JobResult:
    """Fail at once when ``data["fail"]``, else sleep like :func:`sleep_job`."""
    if data.get("fail"):
        raise SimflError([f"job {label}: planned failure", "second line"])
    return sleep_job(label, data)
