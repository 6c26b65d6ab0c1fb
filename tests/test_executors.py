"""Tests of the executors: local processes and a real (locally started) Ray cluster."""

from __future__ import annotations

import importlib.util

import pytest

from simfl.scenario.schema import Scenario
from simfl.studies.executors import run_jobs
from simfl.studies.sweep import grid, label_of


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
