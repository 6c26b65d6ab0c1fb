"""Tests of PerMFL as a timed algorithm: the loop of the paper, its timing and its metrics.

The update rules themselves are checked against hand computations in
test_personalized_rules.py; here the algorithm composes them on a tiny two-label world.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.personalized.permfl import GLOBAL_STEP_OPERATIONS, TEAM_STEP_OPERATIONS
from simfl.algorithms.personalized.rules import average, permfl_global_step, permfl_team_step
from simfl.engine.simulation import stream_seed
from simfl.errors import ScenarioError
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.world import World
from tests.personal_world import TWO_LABELS, personal_scenario, trained

TOL = 1e-5  # absolute, parameter units (float32 sums over a few models)
ALPHA = 0.1  # the world's training.lr


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("permfl", **params))


def test_k_l_one_without_couplings_is_one_gradient_step_from_the_initial_model() -> None:
    # lam = gamma = 0: team and global models stay at x0; theta_i = x0 - alpha grad f_i(x0)
    result = run(rounds=1, team_rounds=1, local_steps=1, lam=0.0, gamma=0.0, team_lr=0.5,
                 device_prox=0.0)
    algo = result.algorithm
    world = algo.world
    x0 = world.initial_parameters()
    assert torch.allclose(algo.x, x0, atol=TOL)
    assert all(torch.allclose(w, x0, atol=TOL) for w in algo.team_models.values())
    for i in (0, 7):
        model = world.model_factory()
        shard = world.clients[i]
        batch = trained_batch(world, i)
        loss = torch.nn.functional.cross_entropy(model(shard.x[batch]), shard.y[batch])
        grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, model.parameters())])
        assert torch.allclose(algo.device_models[i], x0 - ALPHA * grad, atol=TOL)


def trained_batch(world: World, client: int) -> torch.Tensor:
    """Return the first minibatch of ``client``'s stream in round 1, team round 0."""
    shard = world.clients[client]
    rng = np.random.default_rng(stream_seed(world.scenario.seed, f"train/{shard.name}/1.0"))
    return torch.from_numpy(rng.permutation(shard.num_samples))[:16]


@pytest.mark.parametrize("weighting", ["plain", "samples"])
def test_one_round_is_the_loop_of_the_paper(weighting: str) -> None:
    params = dict(rounds=1, team_rounds=2, local_steps=2, lam=0.5, gamma=1.5, beta=0.6,
                  team_lr=0.2, device_prox=3.0, weighting=weighting)
    algo = run(**params).algorithm
    world = algo.world
    x0 = world.initial_parameters()
    cfg = world.train_config
    teams = []
    for group in world.groups:
        w = x0
        for k in range(2):
            thetas = [trained(world, i, w, f"train/client-{i}/1.{k}", cfg, prox=(w, 3.0))
                      for i in group.clients]
            counts = [world.clients[i].num_samples for i in group.clients]
            w = permfl_team_step(w, average(thetas, counts, weighting), x0, 0.2, 0.5, 1.5)
        assert torch.allclose(algo.team_models[group.name], w, atol=TOL)
        assert torch.allclose(algo.device_models[group.clients[-1]], thetas[-1], atol=TOL)
        teams.append((w, sum(counts)))
    expected = permfl_global_step(x0, [w for w, _ in teams], 0.6, 1.5, [n for _, n in teams],
                                  weighting)
    assert torch.allclose(algo.x, expected, atol=TOL)


def test_teams_not_sampled_enter_the_global_mean_with_their_last_model() -> None:
    algo = run(rounds=1, team_rounds=1, local_steps=1, teams_per_round=1).algorithm
    x0 = algo.world.initial_parameters()
    stale = [name for name, w in algo.team_models.items() if torch.equal(w, x0)]
    assert len(stale) == 2
    expected = permfl_global_step(x0, list(algo.team_models.values()), 0.6, 1.5)
    assert torch.allclose(algo.x, expected, atol=TOL)


def test_beta_gamma_of_one_or_more_is_refused_at_validation() -> None:
    text = TWO_LABELS.replace("algorithm: {name: local}",
                              "algorithm: {name: permfl, beta: 0.99, gamma: 5}")
    with pytest.raises(ScenarioError, match=r"beta\*gamma = 0\.99\*5\.0 = 4\.95 must be < 1"):
        scenario_from_text(text)


def test_device_prox_defaults_to_lambda() -> None:
    from simfl.algorithms.personalized.permfl import PerMFL

    assert PerMFL.device_prox(run(rounds=1, team_rounds=1, lam=0.7).algorithm) == 0.7
    assert PerMFL.device_prox(run(rounds=1, team_rounds=1, device_prox=20).algorithm) == 20


def test_personalized_beats_global_on_two_labels_per_device() -> None:
    result = run(rounds=4, team_rounds=2, local_steps=5)
    m = result.metrics
    last = m[(m["round"] == 4) & (m["metric"] == "accuracy")].set_index("node")["value"]
    assert last["personalized"] >= last["global_clients"]
    assert {"global", "team", "team:edge-0", "team:edge-2"} <= set(last.index)


def _link(info: str) -> str:
    return str(json.loads(info)["link"])


def test_events_per_round_are_what_the_loop_sends_and_computes() -> None:
    k, rounds = 2, 2
    result = run(rounds=rounds, team_rounds=k, local_steps=1, devices_per_team_round=3,
                 teams_per_round=2)
    trace = result.trace
    world = result.algorithm.world
    transfers = trace[trace["kind"] == "transfer"]
    links = transfers["info"].map(_link).value_counts().to_dict()
    members, trainers = 4, 3  # per team
    assert links == {"edge_cloud_down": rounds * 2, "edge_cloud_up": rounds * 2,
                     "device_edge_down": rounds * 2 * k * members,
                     "device_edge_up": rounds * 2 * k * trainers}
    computes = trace[trace["kind"] == "compute"]
    devices = computes[computes["node"].str.startswith("client-")]
    teams = computes[computes["node"].str.startswith("edge-")]
    cloud = computes[computes["node"] == "cloud"]
    assert (len(devices), len(teams), len(cloud)) == (rounds * 2 * k * trainers,
                                                      rounds * 2 * k, rounds)
    p = world.num_parameters
    assert teams["flops"].eq(aggregation_flops(p, trainers) + TEAM_STEP_OPERATIONS * p).all()
    assert cloud["flops"].eq(aggregation_flops(p, 3) + GLOBAL_STEP_OPERATIONS * p).all()
    samples = devices["info"].map(lambda s: json.loads(s)["samples"])
    assert (devices["flops"] == samples * world.train_flops_per_sample).all()


def test_devices_talk_to_their_team_server_only() -> None:
    result = run(rounds=1, team_rounds=1, local_steps=1)
    groups = result.algorithm.world.groups
    team_of = {f"client-{i}": g.name for g in groups for i in g.clients}
    transfers = result.trace[result.trace["kind"] == "transfer"]
    for src, dst, info in zip(transfers["node"], transfers["peer"], transfers["info"],
                              strict=True):
        if _link(info).startswith("device_edge"):
            device, server = (src, dst) if src.startswith("client") else (dst, src)
            assert team_of[device] == server
        else:
            assert "cloud" in (src, dst)


def test_more_team_rounds_take_more_simulated_time() -> None:
    short = run(rounds=1, team_rounds=1, local_steps=2).summary["simulated_time_s"]
    long = run(rounds=1, team_rounds=3, local_steps=2).summary["simulated_time_s"]
    assert long > 2.5 * short


def test_same_seed_gives_the_same_run() -> None:
    a, b = run(rounds=2, team_rounds=2), run(rounds=2, team_rounds=2)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.trace, b.trace)
