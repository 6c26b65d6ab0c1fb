"""Tests of h-SGD: team = mean of its devices after L plain steps, global = mean of teams."""

from __future__ import annotations

import json

import torch

from simfl.algorithms.personalized.rules import hsgd_step
from simfl.runs.runner import RunResult, simulate
from tests.personal_world import personal_scenario, trained

TOL = 1e-5  # absolute, parameter units


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("hsgd", **params))


def test_team_rounds_average_plain_local_sgd_and_the_cloud_averages_teams() -> None:
    algo = run(rounds=1, team_rounds=2, local_steps=2).algorithm
    world = algo.world
    x0 = world.initial_parameters()
    teams = []
    for group in world.groups:
        w = x0
        for k in range(2):
            w = hsgd_step([trained(world, i, w, f"train/client-{i}/1.{k}", world.train_config)
                           for i in group.clients])
        assert torch.allclose(algo.team_models[group.name], w, atol=TOL)
        teams.append(w)
    assert torch.allclose(algo.x, hsgd_step(teams), atol=TOL)


def test_the_cloud_averages_only_the_sampled_teams() -> None:
    algo = run(rounds=1, team_rounds=1, local_steps=1, teams_per_round=2).algorithm
    x0 = algo.world.initial_parameters()
    sampled = [w for w in algo.team_models.values() if not torch.equal(w, x0)]
    assert len(sampled) == 2
    assert torch.allclose(algo.x, hsgd_step(sampled), atol=TOL)


def test_samples_weighting_weights_devices_and_teams_by_their_data() -> None:
    plain = run(rounds=1, team_rounds=1, local_steps=1).algorithm
    weighted = run(rounds=1, team_rounds=1, local_steps=1, weighting="samples").algorithm
    world = weighted.world
    models = [weighted.team_models[g.name] for g in world.groups]
    counts = [sum(world.clients[i].num_samples for i in g.clients) for g in world.groups]
    assert torch.allclose(weighted.x, hsgd_step(models, counts, "samples"), atol=TOL)
    assert not torch.allclose(weighted.x, plain.x, atol=TOL)


def test_h_sgd_has_global_and_team_metrics_but_no_personal_models() -> None:
    result = run(rounds=1, team_rounds=1)
    assert "personalized" not in set(result.metrics["node"])
    assert {"global", "team", "global_clients"} <= set(result.metrics["node"])
    assert "final_personalized_metrics" not in result.summary


def test_events_per_round_match_permfl_structure() -> None:
    result = run(rounds=1, team_rounds=2, local_steps=1)
    transfers = result.trace[result.trace["kind"] == "transfer"]
    links = transfers["info"].map(lambda s: json.loads(s)["link"]).value_counts().to_dict()
    assert links == {"edge_cloud_down": 3, "edge_cloud_up": 3, "device_edge_down": 24,
                     "device_edge_up": 24}
    aggregates = result.trace[result.trace["kind"] == "aggregate"]
    assert len(aggregates) == 3 * 2 + 1
