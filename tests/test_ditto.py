"""Tests of Ditto as a timed algorithm: personal models persist on the devices, FedAvg on x.

The device procedure is checked by hand in test_personal_procedures.py; here the algorithm
composes it with the cloud's mean.
"""

from __future__ import annotations

import json

import pandas as pd
import torch

from simfl.algorithms.personalized.rules import average
from simfl.learning.paired import unpack_pair
from simfl.runs.runner import RunResult, simulate
from tests.personal_world import personal_scenario, uploaders

TOL = 1e-5  # absolute, parameter units


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("ditto", **params))


def test_only_sampled_devices_update_their_personal_model() -> None:
    one = run(rounds=1, clients_per_round=4)
    two = run(rounds=2, clients_per_round=4)
    x0 = one.algorithm.world.initial_parameters()
    first, second = uploaders(two, 1), uploaders(two, 2)
    for i in range(12):
        v1, v2 = one.algorithm.device_models[i], two.algorithm.device_models[i]
        assert torch.equal(v1, x0) == (i not in first)
        assert torch.equal(v2, v1) == (i not in second)


def test_global_model_is_the_mean_of_the_local_updates() -> None:
    result = run(rounds=1, clients_per_round=5, personal_lam=0.3, personal_lr=0.05)
    algo = result.algorithm
    world = algo.world
    x0 = world.initial_parameters()
    final = dict(algo.device_models)
    algo.device_models = dict.fromkeys(range(12), x0)  # as at the start of round 1
    job_of = algo.job_maker(1)
    chosen = uploaders(result, 1)
    pairs = [unpack_pair(world.jobs.submit(job_of(i, x0)).value(), world.num_parameters)
             for i in chosen]
    assert torch.allclose(algo.x, average([w for w, _ in pairs]), atol=TOL)
    for i, (_w, v) in zip(chosen, pairs, strict=True):
        assert torch.allclose(final[i], v, atol=TOL)


def test_one_model_goes_each_way_and_both_updates_are_computed() -> None:
    result = run(rounds=1, clients_per_round=3)
    t = result.trace
    links = t.loc[t["kind"] == "transfer", "info"].map(
        lambda s: json.loads(s)["link"]).value_counts().to_dict()
    assert links == {"device_cloud_down": 3, "device_cloud_up": 3}
    assert (t.loc[t["kind"] == "transfer", "bytes"] == result.summary["payload_bytes"]).all()
    computes = t[(t["kind"] == "compute") & t["node"].str.startswith("client-")]
    samples = computes["info"].map(lambda s: json.loads(s)["samples"])
    flops = 2 * samples * result.algorithm.world.train_flops_per_sample
    assert (computes["flops"] == flops).all()


def test_same_seed_gives_the_same_run() -> None:
    a, b = run(rounds=2, clients_per_round=6), run(rounds=2, clients_per_round=6)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
