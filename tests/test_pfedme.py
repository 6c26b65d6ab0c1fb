"""Tests of pFedMe as a timed algorithm: every device trains, the sampled ones are averaged.

The device procedure and the server rule are checked by hand in test_personal_training.py,
test_personal_procedures.py and test_personalized_rules.py; here the algorithm composes them.
"""

from __future__ import annotations

import json

import pandas as pd
import torch

from simfl.algorithms.personalized.rules import pfedme_server_step
from simfl.learning.paired import unpack_pair
from simfl.runs.runner import RunResult, simulate
from tests.personal_world import personal_scenario, uploaders

TOL = 1e-5  # absolute, parameter units


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("pfedme", **params))


def test_every_device_trains_and_the_sampled_ones_upload() -> None:
    result = run(rounds=2, clients_per_round=5, inner_steps=3)
    t = result.trace
    for r in (1, 2):
        rows = t[t["round"] == r]
        links = rows.loc[rows["kind"] == "transfer", "info"].map(
            lambda s: json.loads(s)["link"]).value_counts().to_dict()
        assert links == {"device_cloud_down": 12, "device_cloud_up": 5}
        computes = rows[(rows["kind"] == "compute") & rows["node"].str.startswith("client-")]
        assert len(computes) == 12
        samples = computes["info"].map(lambda s: json.loads(s)["samples"])
        flops = 3 * samples * result.algorithm.world.train_flops_per_sample
        assert (computes["flops"] == flops).all()


def test_the_cloud_steps_toward_the_sampled_local_models_and_devices_keep_theta() -> None:
    result = run(rounds=1, clients_per_round=4, server_beta=2.0)
    algo = result.algorithm
    world = algo.world
    x0 = world.initial_parameters()
    job_of = algo.job_maker(1)
    pairs = {i: unpack_pair(world.jobs.submit(job_of(i, x0)).value(), world.num_parameters)
             for i in range(12)}
    sampled = uploaders(result, 1)
    assert len(sampled) == 4
    expected = pfedme_server_step(x0, [pairs[i][0] for i in sampled], 2.0)
    assert torch.allclose(algo.x, expected, atol=TOL)
    for i, (w, theta) in pairs.items():
        assert torch.allclose(algo.device_models[i], theta, atol=TOL)
        assert not torch.allclose(theta, w, atol=TOL)


def test_pfedme_records_personal_and_global_models() -> None:
    result = run(rounds=1)
    assert {"personalized", "global", "global_clients"} <= set(result.metrics["node"])
    assert result.summary["final_metrics_node"] == "global"


def test_same_seed_gives_the_same_run() -> None:
    a, b = run(rounds=2, clients_per_round=6), run(rounds=2, clients_per_round=6)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
