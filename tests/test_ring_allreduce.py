"""Ring-Allreduce over ISLs: ring math, in-plane order, and allreduces only when one plane
serves every region over visible ISLs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from simfl.algorithms.space.ring_allreduce import in_plane_order, ring_allreduce_bytes, ring_paths
from simfl.engine.simulation import Simulation
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.space_world import SpaceWorld
from simfl.scenario.world import build_world
from tests.conftest import trace_info

# Three regions under consecutive satellites of plane 0 of a 24/2 Walker shell (12 per plane,
# 30 deg apart: neighbours are ISL-visible, the ring closes through the rest of the plane).
WORLD = """
name: ring_small
seed: 0
partition: {num_clients: 6, scheme: region_dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, epochs: 1, batch_size: 32}
devices: {compute: {distribution: fixed, flops_per_s: 100 kFLOPS}}
algorithm: {name: ring_allreduce, duration_s: 30 min, eval_every_s: 15 min}
space:
  constellation:
    walker: {inclination_deg: 53, satellites: 24, planes: 2, phasing: 0, altitude_km: 550}
  horizon_s: 30 min
  cache_dir: null
  regions:
    - {name: a, lat_deg: 41.88, lon_deg: 64.04}
    - {name: b, lat_deg: 53.01, lon_deg: 105.98}
    - {name: c, lat_deg: 45.77, lon_deg: 151.48}
output: {figures: false}
"""




def _allreduces(trace: pd.DataFrame) -> pd.DataFrame:
    agg = trace[trace["kind"] == "aggregate"]
    return agg[[i.get("what") == "allreduce" for i in trace_info(agg)]]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_text(WORLD)


@pytest.fixture(scope="module")
def ring(scenario: Scenario) -> RunResult:
    return simulate(scenario)


@pytest.fixture(scope="module")
def space(scenario: Scenario) -> SpaceWorld:
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert world.space is not None
    return world.space


@pytest.mark.parametrize("n", [2, 3, 5])
def test_each_node_sends_2_n_minus_1_over_n_of_the_payload(n: int) -> None:
    payload = 4840
    table = ring_allreduce_bytes(payload, n)
    assert table.shape == (2 * (n - 1), n)
    assert np.all(np.abs(table.sum(axis=0) - 2 * (n - 1) / n * payload) <= 2)


def test_in_plane_order_follows_the_motion_round_the_orbit() -> None:
    angles = np.radians([0.0, 200.0, 90.0, 300.0])
    r = 7000.0 * np.stack([np.cos(angles), np.sin(angles), np.zeros(4)], axis=1)
    v = 7.5 * np.stack([-np.sin(angles), np.cos(angles), np.zeros(4)], axis=1)
    assert in_plane_order(r, v) == [0, 2, 1, 3]
    assert in_plane_order(r, -v) == [0, 3, 1, 2]


def test_ring_paths_relay_through_the_plane_or_fail() -> None:
    members = ["s0", "s1", "s2", "s3", "s4", "s5"]
    adjacent = {frozenset((members[k], members[(k + 1) % 6])) for k in range(6)}

    def near(a: str, b: str) -> bool:
        return frozenset((a, b)) in adjacent

    paths = ring_paths(members, ["s0", "s1", "s3"], near)
    assert paths == [["s0", "s1"], ["s1", "s2", "s3"], ["s3", "s4", "s5", "s0"]]
    assert ring_paths(members, ["s0", "s3"], lambda a, b: near(a, b) and "s4" not in (a, b)) \
        is None
    assert ring_paths(members, ["s2"], near) == []


def test_allreduces_happen_when_one_plane_serves_every_region(ring: RunResult) -> None:
    done = _allreduces(ring.trace)
    assert len(done) > 0
    counts = ring.metrics[(ring.metrics["node"] == "ring_allreduce")
                          & (ring.metrics["metric"] == "allreduces")]
    assert counts["value"].iloc[-1] == len(done)
    for info in trace_info(done):
        assert sorted(r for rs in info["regions_of"].values() for r in rs) == ["a", "b", "c"]


def test_ring_satellites_share_a_plane_and_every_hop_is_visible(
    ring: RunResult, space: SpaceWorld
) -> None:
    max_range_km = 5000.0  # the scenario's space.isl.max_range_km (default)
    done = _allreduces(ring.trace)
    for t_s, info in list(zip(done["t_start_s"], trace_info(done), strict=True))[:5]:
        assert len({space.plane_of[s] for s in info["satellites"]}) == 1
        for sat, regions in info["regions_of"].items():
            assert all(space.schedule.visible(sat, r, t_s) for r in regions)
    isl = ring.trace[ring.trace["kind"] == "transfer"]
    isl = isl[[i.get("link") == "isl" for i in trace_info(isl)]]
    first = isl[isl["round"] == 1]
    for a, b, t_s in zip(first["node"], first["peer"], first["t_start_s"], strict=True):
        assert space.plane_of[a] == space.plane_of[b]
        assert space.isl_visible(a, b, float(t_s), max_range_km)


def test_every_isl_link_carries_2_n_minus_1_over_n_of_a_model(ring: RunResult) -> None:
    payload = ring.summary["payload_bytes"]
    isl = ring.trace[ring.trace["kind"] == "transfer"]
    isl = isl[[i.get("link") == "isl" for i in trace_info(isl)]]
    done = _allreduces(ring.trace)
    sizes = {int(r): i["ring_size"] for r, i in zip(done["round"], trace_info(done),
                                                   strict=True)}
    per_link: Counter[tuple[int, str, str]] = Counter()
    for r, a, b, nbytes in zip(isl["round"], isl["node"], isl["peer"], isl["bytes"],
                               strict=True):
        per_link[(int(r), a, b)] += int(nbytes)
    assert len(per_link) > 0
    for (r, _a, _b), total in per_link.items():
        n = sizes[r]
        assert abs(total - 2 * (n - 1) / n * payload) <= 2


def test_no_allreduce_when_isls_cannot_reach(scenario: Scenario) -> None:
    short = simulate(scenario_from_text(WORLD, ["space.isl.max_range_km=100 km",
                                                "algorithm.duration_s=15 min"]))
    assert len(_allreduces(short.trace)) == 0
    assert "isl" not in short.summary["bytes_by_link"]
    failed = short.metrics[(short.metrics["node"] == "ring_allreduce")
                           & (short.metrics["metric"] == "attempts_failed")]
    assert failed["value"].iloc[-1] > 0


def test_no_allreduce_with_four_satellites_per_plane(scenario: Scenario) -> None:
    sparse = simulate(scenario_from_text(WORLD, ["space.constellation.walker.satellites=8",
                                                 "algorithm.duration_s=15 min"]))
    assert len(_allreduces(sparse.trace)) == 0
    assert sparse.summary["bytes_by_link"]["region_up"] > 0


def test_same_seed_gives_the_same_trace(ring: RunResult, scenario: Scenario) -> None:
    pd.testing.assert_frame_equal(ring.trace, simulate(scenario).trace)
