"""Tests of FedDF: public data held out of training, the cloud's distillation cost, bytes."""

from __future__ import annotations

import json
import math

import pytest

from simfl.algorithms.oneshot.feddf import distillation_flops
from simfl.errors import SimflError
from simfl.learning.training import TrainConfig, planned_samples
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text

M, STEPS, BATCH = 3, 5, 32
DIGITS_TRAIN = 1437  # 1797 digits less the 20% stratified test holdout
SMALL_FEDDF = f"""
name: small_feddf
seed: 1
data: {{public_fraction: 0.2}}
partition: {{num_clients: {M}, scheme: dirichlet, alpha: 0.5}}
model: {{kind: mlp, hidden: [16]}}
training: {{lr: 0.1, batch_size: 16}}
devices: {{compute: {{distribution: fixed, flops_per_s: 1 MFLOPS}}}}
algorithm: {{name: feddf, local_epochs: 1, distill_steps: {STEPS}, distill_batch_size: {BATCH}}}
output: {{figures: false}}
"""


@pytest.fixture(scope="module")
def run() -> RunResult:
    return simulate(scenario_from_text(SMALL_FEDDF))


def test_public_data_is_held_out_of_the_training_set_before_partitioning(run: RunResult) -> None:
    world = run.algorithm.world
    assert world.public_x is not None
    public = len(world.public_x)
    assert public == math.ceil(0.2 * DIGITS_TRAIN)
    assert sum(c.num_samples for c in world.clients) + public == DIGITS_TRAIN


def test_without_the_key_feddf_holds_out_its_default_fraction() -> None:
    text = SMALL_FEDDF.replace("data: {public_fraction: 0.2}\n", "")
    world = simulate(scenario_from_text(text)).algorithm.world
    assert world.public_x is not None and len(world.public_x) == math.ceil(0.1 * DIGITS_TRAIN)


def test_no_public_data_is_explained() -> None:
    text = SMALL_FEDDF.replace("public_fraction: 0.2", "public_fraction: 0")
    with pytest.raises(SimflError, match=r"set data.public_fraction, e.g. 0.1"):
        simulate(scenario_from_text(text))


def test_cloud_pays_teacher_forwards_and_student_training(run: RunResult) -> None:
    world = run.algorithm.world
    trace = run.trace
    cloud = trace[(trace["kind"] == "compute") & (trace["node"] == "cloud")]
    assert [json.loads(s)["what"] for s in cloud["info"]] == ["distill"]
    public = len(world.public_x)
    samples = planned_samples(public, TrainConfig(steps=STEPS, epochs=None, batch_size=BATCH))
    assert samples == STEPS * BATCH
    assert cloud["flops"].iloc[0] == pytest.approx(distillation_flops(
        M, world.eval_flops_per_sample, public, samples, world.train_flops_per_sample))
    info = json.loads(trace[trace["kind"] == "aggregate"]["info"].iloc[0])
    assert (info["public_samples"], info["models"]) == (public, M)


def test_one_model_up_and_one_down_per_client(run: RunResult) -> None:
    transfers = run.trace[run.trace["kind"] == "transfer"]
    assert (transfers["bytes"] == run.summary["payload_bytes"]).all()
    assert len(transfers) == 2 * M


def test_distillation_flops_formula() -> None:
    assert distillation_flops(3, 10.0, 4, 8, 30.0) == 3 * 10 * 4 + 8 * 30
