"""Tests of FedAvg as a timed process: rounds, deadlines, bytes, compute from FLOPs."""

from __future__ import annotations

import json

import numpy as np

from simfl.runs.runner import simulate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario


def test_each_round_moves_one_model_down_and_up_per_received_client(small_fedavg: Scenario) -> None:
    result = simulate(small_fedavg.model_copy(update={
        "algorithm": small_fedavg.algorithm.model_copy(update={"deadline_s": None})}))
    trace = result.trace
    transfers = trace[trace["kind"] == "transfer"]
    payload = result.summary["payload_bytes"]
    assert (transfers["bytes"] == payload).all()
    rounds, per_round = 6, 4
    assert len(transfers) == 2 * rounds * per_round
    assert result.summary["bytes_moved"] == 2 * rounds * per_round * payload


def test_compute_time_is_counted_flops_over_device_speed(small_fedavg: Scenario) -> None:
    result = simulate(small_fedavg)
    trace = result.trace
    comp = trace[(trace["kind"] == "compute") & trace["node"].str.startswith("client")]
    assert len(comp) > 0
    # Per device, duration * speed must equal the recorded FLOPs: the speed is constant.
    speed = comp["flops"] / (comp["t_end_s"] - comp["t_start_s"])
    speeds = speed.groupby(comp["node"]).agg(["min", "max"])
    assert np.allclose(speeds["min"], speeds["max"], rtol=1e-9)
    whole = comp[~comp["info"].str.contains("interrupted")]
    samples = whole["info"].map(lambda s: json.loads(s)["samples"])
    per_sample = whole["flops"] / samples
    assert np.allclose(per_sample, result.summary["train_flops_per_sample"])


def test_deadline_drops_stragglers_and_round_ends_at_deadline(small_fedavg: Scenario) -> None:
    result = simulate(small_fedavg)
    trace = result.trace
    drops = trace[trace["kind"] == "drop"]
    assert len(drops) > 0, "the scenario's slow devices should miss the 1.5 s deadline"
    agg = trace[(trace["kind"] == "aggregate") & (trace["node"] == "cloud")]
    dropped = agg["info"].map(lambda s: json.loads(s)["dropped"]).sum()
    assert dropped > 0
    # A round with drops cannot last longer than the deadline (+ aggregation on the cloud).
    evals = trace[trace["kind"] == "evaluate"].sort_values("t_start_s")["t_start_s"].to_numpy()
    assert np.all(np.diff(evals) <= 1.5 + 1e-3)


def test_fedavg_learns_digits() -> None:
    scenario = scenario_from_text("""
name: learns
partition: {num_clients: 20, scheme: iid}
training: {lr: 0.1, epochs: 3, batch_size: 16}
algorithm: {name: fedavg, rounds: 15, clients_per_round: 10}
output: {figures: false}
""")
    result = simulate(scenario)
    acc = result.metrics[(result.metrics["metric"] == "accuracy")]["value"].to_numpy()
    assert acc[0] < 0.3
    assert acc[-1] > 0.85


def test_target_accuracy_stops_early() -> None:
    scenario = scenario_from_text("""
name: target
partition: {num_clients: 20, scheme: iid}
training: {lr: 0.1, epochs: 3, batch_size: 16}
algorithm: {name: fedavg, rounds: 100, clients_per_round: 10}
stop: {target_accuracy: 0.7}
output: {figures: false}
""")
    result = simulate(scenario)
    assert result.summary["stop_reason"] == "target_accuracy"
    assert result.summary["rounds_completed"] < 100
    assert result.summary["final_metrics"]["accuracy"] >= 0.7


def test_max_time_stops_the_run(small_fedavg: Scenario) -> None:
    scenario = small_fedavg.model_copy(update={
        "stop": small_fedavg.stop.model_copy(update={"max_time_s": 2.5})})
    result = simulate(scenario)
    assert result.summary["stop_reason"] == "time_budget"
    assert result.summary["simulated_time_s"] == 2.5
    assert result.trace["t_end_s"].max() <= 2.5


def test_float16_payload_halves_the_bytes(small_fedavg: Scenario) -> None:
    half = small_fedavg.model_copy(update={
        "network": small_fedavg.network.model_copy(update={"payload_dtype": "float16"})})
    full_bytes = simulate(small_fedavg).summary["payload_bytes"]
    assert simulate(half).summary["payload_bytes"] * 2 == full_bytes


def test_rounds_completed_counts_aggregations_not_evaluations(small_fedavg: Scenario) -> None:
    algorithm = small_fedavg.algorithm.model_copy(update={"eval_every_rounds": 4,
                                                          "deadline_s": None})
    result = simulate(small_fedavg.model_copy(update={"algorithm": algorithm}))
    aggregates = (result.trace["kind"] == "aggregate").sum()
    assert result.summary["rounds_completed"] == aggregates == 6
    evals = result.metrics[result.metrics["node"] == "global"]["t_s"]
    assert result.summary["final_metrics_t_s"] == evals.max()
