"""Tests of one-shot FedAvg: one upload and one broadcast per client, a uniform average."""

from __future__ import annotations

import json

import pytest
import torch

from simfl.algorithms.aggregate import weighted_average
from simfl.algorithms.oneshot.oneshot_fedavg import average_weights
from simfl.engine.jobs import TrainingJob, with_work
from simfl.engine.simulation import Simulation
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.world import build_world

M, EPOCHS = 4, 2
SMALL_ONESHOT = f"""
name: small_oneshot
seed: 2
partition: {{num_clients: {M}, scheme: dirichlet, alpha: 0.5}}
model: {{kind: mlp, hidden: [16]}}
training: {{lr: 0.1, batch_size: 16}}
devices: {{compute: {{distribution: lognormal, flops_per_s: 1 MFLOPS, sigma: 0.5}}}}
algorithm: {{name: oneshot_fedavg, local_epochs: {EPOCHS}}}
output: {{figures: false}}
"""
PARAM_TOL = 1e-6


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return scenario_from_text(SMALL_ONESHOT)


@pytest.fixture(scope="module")
def run(scenario: Scenario) -> RunResult:
    return simulate(scenario)


def _trained_models(scenario: Scenario) -> tuple[list[torch.Tensor], list[int]]:
    """Train every client's model again through a fresh world's jobs (same streams)."""
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    config = with_work(world.train_config, epochs=EPOCHS)
    jobs = [world.jobs.submit(TrainingJob(i, world.initial_parameters(),
                                          f"train/{c.name}/oneshot", config=config))
            for i, c in enumerate(world.clients)]
    return [j.value() for j in jobs], [j.num_samples for j in jobs]


def test_one_upload_then_one_broadcast_of_one_model_per_client(run: RunResult) -> None:
    transfers = run.trace[run.trace["kind"] == "transfer"].sort_values("t_start_s")
    payload = run.summary["payload_bytes"]
    assert (transfers["bytes"] == payload).all()
    ups = transfers[transfers["peer"] == "cloud"]
    downs = transfers[transfers["node"] == "cloud"]
    assert (len(ups), len(downs)) == (M, M)
    assert downs["t_start_s"].min() >= ups["t_end_s"].max()
    assert transfers.iloc[0]["peer"] == "cloud"  # no download before the first upload
    assert run.summary["bytes_moved"] == 2 * M * payload


def test_each_client_computes_its_local_epochs(run: RunResult) -> None:
    comp = run.trace[(run.trace["kind"] == "compute") & run.trace["node"].str.startswith("client")]
    sizes = {c.name: c.num_samples for c in run.algorithm.world.clients}
    samples = [json.loads(s)["samples"] for s in comp["info"]]
    assert samples == [sizes[n] * EPOCHS for n in comp["node"]]
    per_sample = run.summary["train_flops_per_sample"]
    assert list(comp["flops"]) == pytest.approx([n * per_sample for n in samples])


def test_the_model_is_the_uniform_average_of_the_trained_models(
    scenario: Scenario, run: RunResult,
) -> None:
    vectors, _ = _trained_models(scenario)
    expected = weighted_average(vectors, [1.0] * M)
    assert torch.allclose(run.algorithm.final_model, expected, atol=PARAM_TOL)


def test_samples_weighting_weights_by_local_sample_counts(scenario: Scenario) -> None:
    weighted = simulate(scenario.model_copy(update={
        "algorithm": scenario.algorithm.model_copy(update={"weighting": "samples"})}))
    vectors, counts = _trained_models(scenario)
    assert len(set(counts)) > 1
    assert torch.allclose(weighted.algorithm.final_model,
                          weighted_average(vectors, counts), atol=PARAM_TOL)


def test_evaluated_once_when_every_client_holds_the_average(run: RunResult) -> None:
    glob = run.metrics[(run.metrics["node"] == "global") & (run.metrics["metric"] == "accuracy")]
    assert list(glob["round"]) == [1]
    assert glob["t_s"].iloc[0] == run.summary["simulated_time_s"]
    assert run.summary["rounds_completed"] == 1


def test_average_weights_are_uniform_or_sample_counts() -> None:
    assert average_weights([3, 5], "uniform") == [1.0, 1.0]
    assert average_weights([3, 5], "samples") == [3.0, 5.0]
