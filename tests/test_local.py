"""Tests of the Local baseline: every device alone, and the majority-label bar."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from simfl.algorithms.personalized.local import majority_label_accuracy
from simfl.runs.runner import RunResult, simulate
from tests.personal_world import personal_scenario, trained

TOL = 1e-5  # absolute, parameter units


def run(**params: object) -> RunResult:
    return simulate(personal_scenario("local", **params))


def test_majority_label_accuracy_matches_hand_count() -> None:
    train = [np.array([1, 1, 2]), np.array([0, 3, 3, 3])]
    test = [np.array([1, 2, 1, 1]), np.array([3, 0])]
    # device 0 predicts 1: 3 of 4; device 1 predicts 3: 1 of 2
    assert majority_label_accuracy(train, test) == pytest.approx(4 / 6)


def test_majority_label_ties_go_to_the_smallest_label() -> None:
    assert majority_label_accuracy([np.array([2, 5, 5, 2])], [np.array([2, 5])]) == 0.5


def test_each_device_trains_its_own_model_round_after_round() -> None:
    algo = run(rounds=2, local_steps=3).algorithm
    world = algo.world
    cfg = world.train_config.__class__(lr=0.1, steps=3, epochs=None, batch_size=16)
    for i in (0, 11):
        w = world.initial_parameters()
        for r in (1, 2):
            w = trained(world, i, w, f"train/client-{i}/{r}", cfg)
        assert torch.allclose(algo.device_models[i], w, atol=TOL)


def test_only_the_initial_model_is_sent() -> None:
    result = run(rounds=3)
    t = result.trace
    transfers = t[t["kind"] == "transfer"]
    assert len(transfers) == 12 and (transfers["round"] == 1).all()
    assert set(transfers["info"].map(lambda s: json.loads(s)["link"])) == {"device_cloud_down"}
    assert (t["kind"] == "compute").sum() == 3 * 12


def test_local_reports_personal_models_and_the_majority_bar() -> None:
    result = run(rounds=1)
    nodes = set(result.metrics["node"])
    assert "global" not in nodes and {"personalized", "majority"} <= nodes
    assert result.summary["final_metrics_node"] == "personalized"
    world = result.algorithm.world
    bar = majority_label_accuracy([c.labels for c in world.clients],
                                  [c.test_y.numpy() for c in world.clients])
    m = result.metrics
    assert m.loc[m["node"] == "majority", "value"].tolist() == [bar]


def test_same_seed_gives_the_same_run() -> None:
    pd.testing.assert_frame_equal(run(rounds=2).metrics, run(rounds=2).metrics)
