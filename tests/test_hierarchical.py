"""Tests of hierarchical FedAvg: edge assignment, tiers of traffic, edge rounds."""

from __future__ import annotations

import json

import pytest

from simfl.learning.grouping import contiguous_groups
from simfl.runs.runner import simulate
from simfl.scenario.schema import Scenario


def test_devices_talk_only_to_their_edge_and_edges_to_cloud(small_hierarchical: Scenario) -> None:
    result = simulate(small_hierarchical)
    transfers = result.trace[result.trace["kind"] == "transfer"]
    groups = contiguous_groups(12, 3)
    edge_of = {f"client-{i}": f"edge-{j}" for j, g in enumerate(groups) for i in g}
    for src, dst, info in zip(transfers["node"], transfers["peer"], transfers["info"], strict=True):
        link = json.loads(info)["link"]
        if link.startswith("device_edge"):
            client, edge = (src, dst) if src.startswith("client") else (dst, src)
            assert edge_of[client] == edge
        else:
            assert link.startswith("edge_cloud")
            assert "cloud" in (src, dst)
    assert not any(json.loads(i)["link"].startswith("device_cloud") for i in transfers["info"])


def test_edge_rounds_per_cloud_round(small_hierarchical: Scenario) -> None:
    result = simulate(small_hierarchical)
    agg = result.trace[result.trace["kind"] == "aggregate"]
    edge_aggs = agg[agg["node"].str.startswith("edge")]
    cloud_aggs = agg[agg["node"] == "cloud"]
    assert len(cloud_aggs) == 3
    assert len(edge_aggs) == 3 * 3 * 2  # rounds x edges x edge_rounds
    up = result.trace[(result.trace["kind"] == "transfer")
                      & result.trace["info"].str.contains("edge_cloud_up")]
    assert len(up) == 3 * 3


def test_every_edge_round_shuffles_with_its_own_stream(small_hierarchical: Scenario,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import Counter

    from simfl.engine.simulation import Simulation

    names: Counter[str] = Counter()
    original = Simulation.fresh_rng

    def logged(self: Simulation, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("train/"):
            names[name] += 1
        return original(self, name)

    monkeypatch.setattr(Simulation, "fresh_rng", logged)
    simulate(small_hierarchical)
    assert names and max(names.values()) == 1


def test_each_edge_has_its_own_access_medium(small_hierarchical: Scenario) -> None:
    from simfl.engine.simulation import Simulation
    from simfl.scenario.world import build_world

    sim = Simulation(small_hierarchical.epoch, small_hierarchical.seed)
    world = build_world(small_hierarchical, sim)
    assert world.groups is not None
    media = {id(ch) for group in world.groups for ch in (group.down, group.up)}
    assert len(media) == 6
