"""Tests of Per-FedAvg (first order) as a timed algorithm: meta steps on the devices, the
cloud's mean, and personalization by one gradient step on each device's training data.

The meta step is checked by hand in test_personal_training.py and test_personal_procedures.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch

from simfl.algorithms.personalized.rules import average
from simfl.engine.simulation import stream_seed
from simfl.learning.params import set_flat
from simfl.learning.training import TrainConfig, planned_samples
from simfl.runs.runner import RunResult, simulate
from tests.personal_world import personal_scenario

TOL = 1e-5  # absolute, parameter units
ALPHA = 0.1  # the world's training.lr
BATCH = 16  # the world's training.batch_size


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("per_fedavg", **params))


def test_a_meta_step_costs_two_minibatches_on_the_device() -> None:
    result = run(rounds=1, local_steps=2, clients_per_round=4)
    t = result.trace
    computes = t[(t["kind"] == "compute") & t["node"].str.startswith("client-")]
    samples = computes["info"].map(lambda s: json.loads(s)["samples"])
    world = result.algorithm.world
    cfg = TrainConfig(steps=2 * 2, batch_size=BATCH)
    planned = [planned_samples(world.clients[int(n.split("-")[1])].num_samples, cfg)
               for n in computes["node"]]
    assert len(computes) == 4 and samples.tolist() == planned
    assert max(planned) == 2 * 2 * BATCH
    assert (computes["flops"] == samples * result.algorithm.world.train_flops_per_sample).all()


def test_global_model_is_the_mean_of_the_meta_updates() -> None:
    result = run(rounds=1, local_steps=2)
    algo = result.algorithm
    world = algo.world
    x0 = world.initial_parameters()
    job_of = algo.job_maker(1)
    updates = [world.jobs.submit(job_of(i, x0)).value() for i in range(12)]
    assert torch.allclose(algo.x, average(updates), atol=TOL)


def test_personalized_model_is_one_gradient_step_on_a_local_training_minibatch() -> None:
    result = run(rounds=1, local_steps=1)
    algo = result.algorithm
    world = algo.world
    for i in (0, 5):
        shard = world.clients[i]
        rng = np.random.default_rng(stream_seed(world.scenario.seed, f"adapt/{shard.name}/1"))
        batch = torch.from_numpy(rng.permutation(shard.num_samples))[:BATCH]
        model = world.model_factory()
        set_flat(model, algo.x)
        loss = torch.nn.functional.cross_entropy(model(shard.x[batch]), shard.y[batch])
        grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, model.parameters())])
        assert torch.allclose(algo.device_models[i], algo.x - ALPHA * grad, atol=TOL)


def test_same_seed_gives_the_same_run() -> None:
    a, b = run(rounds=2, clients_per_round=6), run(rounds=2, clients_per_round=6)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
