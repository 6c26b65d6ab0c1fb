"""Parallel FL: gossip only between neighbouring regions' serving satellites over visible ISLs;
exchange deltas survive rounds in progress."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from simfl.algorithms.space.parallel_fl import ParallelFL, ParallelFlConfig, neighbour_indices
from simfl.engine.simulation import Simulation
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.space_world import SpaceWorld
from simfl.scenario.world import World, build_world
from tests.conftest import trace_info

# Four regions along the ground track of one satellite of a 24/2 Walker shell, ~13 deg apart:
# the satellites serving regions two apart (a-c, b-d) are often ISL-visible too.
WORLD = """
name: pfl_small
seed: 0
partition: {num_clients: 8, scheme: region_dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, epochs: 1, batch_size: 32}
devices: {compute: {distribution: fixed, flops_per_s: 100 kFLOPS}}
algorithm: {name: parallel_fl, duration_s: 30 min, eval_every_s: 15 min, neighbours: 1}
space:
  constellation:
    walker: {inclination_deg: 53, satellites: 24, planes: 2, phasing: 0, altitude_km: 550}
  horizon_s: 30 min
  cache_dir: null
  regions:
    - {name: a, lat_deg: 33.76, lon_deg: 52.72}
    - {name: b, lat_deg: 41.88, lon_deg: 64.04}
    - {name: c, lat_deg: 48.37, lon_deg: 78.46}
    - {name: d, lat_deg: 52.34, lon_deg: 96.31}
output: {figures: false}
"""




def _gossip_transfers(trace: pd.DataFrame) -> pd.DataFrame:
    transfers = trace[trace["kind"] == "transfer"]
    return transfers[[i.get("what") == "gossip" for i in trace_info(transfers)]]


def _pairs(trace: pd.DataFrame) -> set[str]:
    return {"".join(sorted((i["region"], i["peer_region"])))
            for i in trace_info(_gossip_transfers(trace))}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_text(WORLD)


@pytest.fixture(scope="module")
def gossip(scenario: Scenario) -> RunResult:
    return simulate(scenario)


@pytest.fixture(scope="module")
def world(scenario: Scenario) -> World:
    return build_world(scenario, Simulation(scenario.epoch, scenario.seed))


def test_neighbours_wrap_round_the_region_order() -> None:
    assert neighbour_indices(4, 0, 1) == [3, 1]
    assert neighbour_indices(5, 2, 2) == [1, 3, 0, 4]
    assert neighbour_indices(3, 0, 2) == [2, 1]  # no repeats on a short ring
    assert neighbour_indices(1, 0, 1) == []


def test_gossip_moves_models_over_isls_both_ways(gossip: RunResult) -> None:
    transfers = _gossip_transfers(gossip.trace)
    assert len(transfers) > 0
    assert set(transfers["bytes"]) == {gossip.summary["payload_bytes"]}
    there = _transfer_counts(transfers, ("node", "peer"))
    back = _transfer_counts(transfers, ("peer", "node"))
    assert there == back


def _transfer_counts(
    frame: pd.DataFrame, cols: tuple[str, str]
) -> dict[tuple[str, str, float], int]:
    """Count transfers per (from, to, start time)."""
    out: dict[tuple[str, str, float], int] = {}
    for a, b, t in zip(frame[cols[0]], frame[cols[1]], frame["t_start_s"], strict=True):
        out[(a, b, round(float(t), 9))] = out.get((a, b, round(float(t), 9)), 0) + 1
    return out


def test_only_neighbouring_regions_exchange(gossip: RunResult, scenario: Scenario) -> None:
    assert _pairs(gossip.trace) <= {"ab", "bc", "cd", "ad"}
    wider = simulate(scenario_from_text(WORLD, ["algorithm.neighbours=2"]))
    assert _pairs(wider.trace) & {"ac", "bd"}, "two-apart servers are visible in this world"


def test_exchanges_only_between_serving_isl_visible_satellites(
    gossip: RunResult, world: World
) -> None:
    space: SpaceWorld = world.space  # type: ignore[assignment]
    transfers = _gossip_transfers(gossip.trace)
    for (_, row), info in list(zip(transfers.iterrows(), trace_info(transfers), strict=True))[:40]:
        t_s = float(row["t_start_s"])
        assert space.isl_visible(row["node"], row["peer"], t_s, 5000.0)
        assert space.schedule.visible(row["node"], info["region"], t_s)
        assert space.schedule.visible(row["peer"], info["peer_region"], t_s)


def test_no_gossip_when_isls_cannot_reach() -> None:
    short = simulate(scenario_from_text(WORLD, ["space.isl.max_range_km=100 km",
                                                "algorithm.duration_s=15 min"]))
    assert "isl" not in short.summary["bytes_by_link"]
    assert len(_gossip_transfers(short.trace)) == 0


def test_exchange_delta_is_added_to_a_round_in_progress(
    world: World, scenario: Scenario
) -> None:
    assert isinstance(scenario.algorithm, ParallelFlConfig)
    algo = ParallelFL(world.sim, world, scenario.algorithm)
    region = algo.regions["a"]
    start = region.model.clone()
    delta = torch.full_like(start, 0.25)
    list(algo.before_region_round(region, "SAT-P0-S00", 1))
    algo.apply_delta(region, delta)  # a neighbour's exchange lands mid-round
    assert torch.allclose(region.model, start + delta)
    round_result = start + 1.0  # the round's FedAvg, computed from the old model
    region.model = round_result
    list(algo.after_region_round(region, "SAT-P0-S00", 1))  # nobody served: no exchange
    assert torch.allclose(region.model, round_result + delta)


def test_same_seed_gives_the_same_trace(gossip: RunResult, scenario: Scenario) -> None:
    pd.testing.assert_frame_equal(gossip.trace, simulate(scenario).trace)


def test_overlapping_exchanges_average_instead_of_swapping() -> None:
    """Two neighbours exchanging at the same instant must end at their average (not swap)."""
    import torch

    from simfl.algorithms.space.parallel_fl import ParallelFL
    from simfl.engine.simulation import Simulation
    from simfl.scenario.load import scenario_from_text
    from simfl.scenario.world import build_world
    from simfl.studies.variants import with_algorithm
    from tests.test_fedmeld import SMALL_FEDMELD

    scenario = with_algorithm(scenario_from_text(SMALL_FEDMELD), "parallel_fl")
    sim = Simulation(scenario.epoch, scenario.seed)
    world = build_world(scenario, sim)
    algo = ParallelFL(sim, world, scenario.algorithm)
    sats = sorted(world.space.elements)[:2] if world.space else []
    serving = {"a": sats[0], "b": sats[1], "c": None}
    algo.served_by = lambda region, t: serving[region.name]  # type: ignore[method-assign]
    algo.isl_visible = lambda a, b, t: True  # type: ignore[method-assign]
    a, b = algo.regions["a"], algo.regions["b"]
    a.model, b.model = torch.zeros(world.num_parameters), torch.ones(world.num_parameters)
    a.num_samples = b.num_samples = 100
    sim.process(algo.exchange_after_round(a, sats[0], 1))
    sim.process(algo.exchange_after_round(b, sats[1], 1))
    sim.env.run()
    assert torch.allclose(a.model, torch.full_like(a.model, 0.5))
    assert torch.allclose(b.model, torch.full_like(b.model, 0.5))
