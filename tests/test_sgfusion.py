"""Tests of SGFusion (simfl.algorithms.geographic.sgfusion): timed histogram exchange, HRG per
country, partner draws that follow p_LCA, timed partner rounds, attention fusion."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from simfl.algorithms.geographic.fusion import fused_model
from simfl.algorithms.geographic.sgfusion import SGFusion
from simfl.engine.simulation import Simulation
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.world import build_world
from tests.conftest import SMALL_GEO, trace_info

BINS = 10
FLOAT_BYTES = 8


def _run(*overrides: str) -> RunResult:
    return simulate(scenario_from_text(SMALL_GEO, ["algorithm.name=sgfusion", *overrides]))


@pytest.fixture(scope="module")
def sgfusion_run() -> RunResult:
    """SGFusion on the six Norway zones, 3 rounds."""
    return _run()


def _events(result: RunResult, kind: str, round: int | None = None) -> pd.DataFrame:
    t = result.trace
    rows = t[t["kind"] == kind]
    return rows if round is None else rows[rows["round"] == round]


def _what(frame: pd.DataFrame) -> list[Any]:
    return [i.get("what") for i in trace_info(frame)]


def test_fusion_with_a_like_zone_reaches_the_common_optimum_faster() -> None:
    # toy problem: zone losses |w - a_z|^2 / 2, each update one gradient step of size 0.2
    target = torch.tensor([1.0, -2.0])
    other = torch.tensor([-3.0, 4.0])

    def step(w: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return -0.2 * (w - a)

    alone = fused_with_like = fused_with_unlike = torch.zeros(2)
    for _ in range(5):
        alone = fused_model(alone, step(alone, target), [])
        fused_with_like = fused_model(fused_with_like, step(fused_with_like, target),
                                      [step(fused_with_like, target)])
        fused_with_unlike = fused_model(fused_with_unlike, step(fused_with_unlike, target),
                                        [step(fused_with_unlike, other)])
    gap = {name: float((w - target).norm()) for name, w in
           (("alone", alone), ("like", fused_with_like), ("unlike", fused_with_unlike))}
    # the like zone doubles the step: the gap shrinks by 0.6 instead of 0.8 per round
    assert gap["like"] / gap["alone"] == pytest.approx((0.6 / 0.8) ** 5, rel=1e-5)
    assert gap["unlike"] > gap["alone"]  # a zone of another optimum pulls it away


def test_histograms_cross_each_link_once_with_common_bin_edges(sgfusion_run: RunResult) -> None:
    world = sgfusion_run.algorithm.world
    transfers = _events(sgfusion_run, "transfer", 0)
    info = trace_info(transfers)
    by_what: Counter[tuple[str, str]] = Counter()
    for row, i in zip(transfers.itertuples(), info, strict=True):
        by_what[(i["what"], i["link"])] += 1
        expected = {"bin_edges": (BINS + 1) * FLOAT_BYTES, "histogram": BINS * FLOAT_BYTES,
                    "zone_plan": len(world.groups) * FLOAT_BYTES}[i["what"]]
        assert row.bytes == expected
    users, zones = len(world.clients), len(world.groups)
    assert by_what == {("bin_edges", "edge_cloud_down"): zones,
                       ("bin_edges", "device_edge_down"): users,
                       ("histogram", "device_edge_up"): users,
                       ("histogram", "edge_cloud_up"): zones,
                       ("zone_plan", "edge_cloud_down"): zones}


def test_the_cloud_fits_the_hrg_in_one_compute_event(sgfusion_run: RunResult) -> None:
    computes = _events(sgfusion_run, "compute", 0)
    plans = computes[[w == "zone_plan" for w in _what(computes)]]
    assert plans["node"].tolist() == ["cloud"] and float(plans["flops"].iloc[0]) > 0
    hrg = sgfusion_run.summary["details"]["hrg"]
    assert [fit["domain"] for fit in hrg] == ["norway"] and hrg[0]["method"] == "exact"


def test_every_round_sends_and_computes_what_the_partners_need(
        sgfusion_run: RunResult) -> None:
    world = sgfusion_run.algorithm.world
    users = {g.name: len(g.clients) for g in world.groups}
    for r in (1, 2, 3):
        partners = {z: [] for z in users}
        for row, i in zip(_events(sgfusion_run, "mix", r).itertuples(),
                          trace_info(_events(sgfusion_run, "mix", r)), strict=True):
            partners[row.node] = i["partners"]
            assert sum(i["attention"]) == pytest.approx(1.0, abs=1e-5)
        links = Counter(i["link"] for i in trace_info(_events(sgfusion_run, "transfer", r)))
        trained = sum(users[z] + sum(users[p] for p in ps) for z, ps in partners.items())
        assert links["edge_edge"] == 2 * sum(len(p) for p in partners.values())
        assert links["device_edge_down"] == links["device_edge_up"] == trained
        computes = _events(sgfusion_run, "compute", r)
        whats = Counter(_what(computes))
        assert whats[None] == trained  # the users' training jobs
        assert whats["aggregate"] == sum(1 + len(p) for p in partners.values())
        assert whats["fuse"] == sum(1 for p in partners.values() if p)
        sampled = sgfusion_run.metrics.query("node == 'sampling' and metric == 'sampled_zones' "
                                             f"and round == {r}")["value"]
        assert float(sampled.iloc[0]) == pytest.approx(
            np.mean([len(p) for p in partners.values()]))


def test_draws_follow_the_lca_probabilities() -> None:
    scenario = scenario_from_text(SMALL_GEO, ["algorithm.name=sgfusion"])
    sim = Simulation(scenario.epoch, scenario.seed)
    algo = SGFusion(sim, build_world(scenario, sim), scenario.algorithm)
    sim.env.run(sim.process(algo.prepare()))
    assert algo.P is not None
    draws = 3000
    counts = np.zeros_like(algo.P)
    for r in range(draws):
        for z, picked in enumerate(algo.choose_partners(r)):
            counts[z, picked] += 1
    # binomial standard error at most 0.5 / sqrt(3000) = 0.009; 4.5 of them
    assert counts / draws == pytest.approx(algo.P, abs=0.041)


def test_same_seed_gives_the_same_trace_and_metrics(sgfusion_run: RunResult) -> None:
    again = _run()
    pd.testing.assert_frame_equal(again.trace, sgfusion_run.trace)
    pd.testing.assert_frame_equal(again.metrics, sgfusion_run.metrics)


def test_zones_fuse_only_within_their_country() -> None:
    result = simulate(scenario_from_text(SMALL_GEO, [
        "algorithm.name=sgfusion_all",
        'data.geo_workouts.countries=[{name: norway, rows: 1, cols: 2}, '
        '{name: spain, rows: 1, cols: 2}]']))
    for row, i in zip(_events(result, "mix").itertuples(),
                      trace_info(_events(result, "mix")), strict=True):
        assert {p.split("-")[0] for p in i["partners"]} == {row.node.split("-")[0]}


def test_scope_all_lets_countries_mix() -> None:
    result = simulate(scenario_from_text(SMALL_GEO, [
        "algorithm.name=sgfusion_all", "algorithm.scope=all", "algorithm.rounds=1",
        'data.geo_workouts.countries=[{name: norway, rows: 1, cols: 2}, '
        '{name: spain, rows: 1, cols: 2}]']))
    assert all(len(i["partners"]) == 3 for i in trace_info(_events(result, "mix")))


def test_official_skip_leaves_zones_without_partners_untrained() -> None:
    result = simulate(scenario_from_text(SMALL_GEO, [
        "algorithm.name=sgfusion_threshold", "algorithm.threshold=1e-9",
        "algorithm.skip_without_partners=true", "algorithm.rounds=2"]))
    assert _events(result, "compute", 1).empty and _events(result, "compute", 2).empty
    rmse = result.metrics.query("node == 'personalized' and metric == 'rmse'")["value"]
    assert rmse.nunique() == 1


def test_official_last_only_changes_the_fused_models() -> None:
    base = ["algorithm.name=sgfusion_all", "algorithm.rounds=1"]
    every = simulate(scenario_from_text(SMALL_GEO, base)).summary["final_metrics"]["rmse"]
    last = simulate(scenario_from_text(SMALL_GEO, [*base, "algorithm.official_last_only=true"]))
    assert last.summary["final_metrics"]["rmse"] != pytest.approx(every, rel=1e-9)


def test_dp_noise_changes_the_histograms_deterministically() -> None:
    base = ["algorithm.rounds=1"]
    clean = _run(*base).summary["details"]["histograms"]
    noisy = _run(*base, "algorithm.dp_epsilon=1.0").summary["details"]["histograms"]
    again = _run(*base, "algorithm.dp_epsilon=1.0").summary["details"]["histograms"]
    assert noisy == again
    assert not np.allclose(noisy, clean)
    assert np.allclose(np.sum(noisy, axis=1), 1.0)


def test_the_summary_gives_the_headline_and_the_fit(sgfusion_run: RunResult) -> None:
    summary = sgfusion_run.summary
    assert summary["final_metrics_node"] == "personalized"
    details = summary["details"]
    json.dumps(details)  # JSON-able, as summary.json needs
    P = np.asarray(details["P"])
    assert details["expected_sampled_zones"] == pytest.approx(P.sum(axis=1).mean())


def test_a_country_of_one_zone_fuses_with_nobody() -> None:
    result = _run("algorithm.rounds=1", 'data.geo_workouts.countries=[{name: norway, rows: 1, '
                  'cols: 1}, {name: spain, rows: 1, cols: 2}]')
    details = result.summary["details"]
    assert [fit["domain"] for fit in details["hrg"]] == ["spain"]
    assert details["P"][0] == [0.0, 0.0, 0.0]
    assert "norway-0-0" not in _events(result, "mix")["node"].tolist()
