"""Tests of zone FL (simfl.algorithms.geographic.zone_fl): one FedAvg round per zone and
round, per-zone and pooled metrics, no fusion traffic."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from simfl.cli import main
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from tests.conftest import SMALL_GEO, trace_info


@pytest.fixture(scope="module")
def zone_fl_run() -> RunResult:
    """Zone FL on the six Norway zones, 3 rounds."""
    return simulate(scenario_from_text(SMALL_GEO))


def test_each_round_trains_every_zone_on_its_users_only(zone_fl_run: RunResult) -> None:
    world = zone_fl_run.algorithm.world
    users, zones = len(world.clients), len(world.groups)
    trace = zone_fl_run.trace
    for r in (1, 2, 3):
        rows = trace[trace["round"] == r]
        kinds = Counter(rows["kind"])
        links = Counter(i["link"] for i in trace_info(rows[rows["kind"] == "transfer"]))
        assert links == {"device_edge_down": users, "device_edge_up": users}
        assert kinds["compute"] == users + zones and kinds["aggregate"] == zones
        assert "mix" not in kinds
    assert trace[trace["round"] == 0]["kind"].isin(["evaluate"]).all()


def test_zone_models_are_recorded_per_zone_and_pooled(zone_fl_run: RunResult) -> None:
    world = zone_fl_run.algorithm.world
    m = zone_fl_run.metrics
    last = m[(m["round"] == 3) & (m["metric"] == "loss")]
    per_zone = {n.removeprefix("zone:"): v for n, v in zip(last["node"], last["value"],
                                                           strict=True) if n.startswith("zone:")}
    assert set(per_zone) == set(world.groups.names)
    targets = {g.name: sum(world.clients[i].test_y.numel() for i in g.clients)
               for g in world.groups}
    pooled = sum(per_zone[z] * targets[z] for z in per_zone) / sum(targets.values())
    personal = last[last["node"] == "personalized"]["value"].iloc[0]
    assert personal == pytest.approx(pooled, rel=1e-9)
    assert zone_fl_run.summary["final_metrics"]["rmse"] == pytest.approx(np.sqrt(personal))


def test_zone_fl_draws_no_partners(zone_fl_run: RunResult) -> None:
    sampled = zone_fl_run.metrics.query("node == 'sampling'")["value"]
    assert len(sampled) == 3 and (sampled == 0.0).all()
    assert zone_fl_run.summary["details"]["mean_sampled_zones"] == 0.0


def test_a_deadline_drops_slow_users() -> None:
    result = simulate(scenario_from_text(SMALL_GEO, ["algorithm.deadline_s=1e-6"]))
    drops = result.trace[result.trace["kind"] == "drop"]
    assert len(drops) > 0
    assert result.trace[result.trace["kind"] == "aggregate"].empty


def test_simfl_run_prints_the_summary_without_the_details(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "geo.yaml"
    scenario.write_text(SMALL_GEO.replace("rounds: 3", "rounds: 1"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    assert "final_metrics_node" in printed and "details." not in printed
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["details"]["zones"] == [f"norway-{r}-{c}" for r in range(2) for c in range(3)]
