"""Tests of simfl.scenario.world: per-client test data and pooled personalized evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.learning.training import evaluate
from simfl.scenario.load import scenario_from_text
from simfl.scenario.world import World, build_world

# float32 sums in another order: metrics agree to about 1e-6
LOSS_NOISE = 1e-5

BASE = """
name: w
model: {hidden: [8]}
algorithm: {name: fedavg, rounds: 1}
"""


PARTITION = "partition: {num_clients: 8, scheme: labels_per_client, labels_per_client: 2}\n"


def world_of(extra: str = "") -> World:
    text = BASE + extra
    scenario = scenario_from_text(text if "partition:" in text else text + PARTITION)
    return build_world(scenario, Simulation(scenario.epoch, scenario.seed))


def test_proportional_client_tests_leave_training_data_alone() -> None:
    plain = world_of("data: {client_test: proportional}\n")
    again = world_of("data: {client_test: holdout}\n")
    for a in plain.clients:
        assert a.test_y is not None
        assert set(a.test_y.tolist()) <= set(a.labels.tolist())
    assert sum(c.num_samples for c in plain.clients) > sum(c.num_samples for c in again.clients)


def test_holdout_moves_a_quarter_of_each_shard_to_test() -> None:
    plain, held = world_of(), world_of("data: {client_test: holdout}\n")
    for a, b in zip(plain.clients, held.clients, strict=True):
        assert b.num_samples + b.num_test_samples == a.num_samples
        assert b.num_test_samples == pytest.approx(0.25 * a.num_samples, abs=2)


def test_synthetic_clients_test_on_their_own_split() -> None:
    world = world_of("data: {dataset: synthetic}\n")
    own = torch.cat([c.test_y for c in world.clients if c.test_y is not None])
    assert torch.equal(own, world.test_y)


def test_natural_needs_a_dataset_with_user_splits() -> None:
    with pytest.raises(ScenarioError, match=r"client_test 'natural' uses each user's own test"):
        scenario_from_text(BASE + "data: {client_test: natural}\n")


def test_personalized_evaluation_pools_samples_over_clients() -> None:
    world = world_of()
    w = world.initial_parameters()
    pooled = world.evaluate_clients({i: w for i in range(len(world.clients))})
    xs = torch.cat([c.test_x for c in world.clients if c.test_x is not None])
    ys = torch.cat([c.test_y for c in world.clients if c.test_y is not None])
    model = world.model_factory()
    assert pooled == pytest.approx(evaluate(model, xs, ys))


def test_each_client_is_measured_with_its_own_model() -> None:
    world = world_of()
    w = world.initial_parameters()
    own = {i: w * (1 + i) for i in range(len(world.clients))}
    mixed = world.evaluate_clients(own)
    same = world.evaluate_clients({i: w for i in own})
    assert mixed["loss"] != same["loss"]
    assert np.isfinite(mixed["loss"])


def write_leaf(root: Path, users: int = 3, features: int = 6) -> Path:
    """Write a small LEAF-layout folder: every user with its own train and test samples."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("test", 4)):
        (root / split).mkdir(parents=True)
        names = [f"u{k}" for k in range(users)]
        doc = {"users": names, "num_samples": [n] * users, "user_data": {
            u: {"x": rng.normal(size=(n, features)).round(3).tolist(),
                "y": [int(v) for v in rng.integers(0, 3, n)]} for u in names}}
        (root / split / "all_data.json").write_text(json.dumps(doc))
    return root


def test_leaf_users_become_clients_with_their_own_test_data(tmp_path: Path) -> None:
    leaf = write_leaf(tmp_path / "leaf")
    world = world_of(f"data: {{dataset: leaf, path: {leaf}}}\npartition: {{scheme: iid}}\n")
    assert [c.num_samples for c in world.clients] == [12, 12, 12]
    assert all(c.num_test_samples == 4 for c in world.clients)
    assert world.test_y.shape[0] == 12


def test_leaf_takes_the_first_users_when_asked(tmp_path: Path) -> None:
    leaf = write_leaf(tmp_path / "leaf")
    world = world_of(f"data: {{dataset: leaf, path: {leaf}}}\npartition: {{num_clients: 2}}\n")
    assert len(world.clients) == 2
    with pytest.raises(ScenarioError, match=r"5 clients asked for, but .* has 3 users"):
        world_of(f"data: {{dataset: leaf, path: {leaf}}}\npartition: {{num_clients: 5}}\n")


def test_simfl_run_trains_on_a_leaf_folder(tmp_path: Path) -> None:
    from simfl.cli import main

    leaf = write_leaf(tmp_path / "leaf")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: leafrun\ndata: {{dataset: leaf, path: {leaf}}}\n"
                        "model: {hidden: [8]}\n"
                        "algorithm: {name: fedavg, rounds: 2, clients_per_round: 3}\n"
                        "output: {figures: false}\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "-q"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["num_clients"], summary["rounds_completed"]) == (3, 2)


def test_public_data_is_held_out_of_every_synthetic_shard() -> None:
    plain = world_of("data: {dataset: synthetic}\n")
    public = world_of("data: {dataset: synthetic, public_fraction: 0.2}\n")
    assert plain.public_x is None and public.public_x is not None
    assert (sum(c.num_samples for c in public.clients) + len(public.public_x)
            == sum(c.num_samples for c in plain.clients))
    assert public.public_x.shape[1:] == plain.clients[0].x.shape[1:]
    assert torch.equal(public.test_y, plain.test_y)


def test_resnets_read_digits_as_images() -> None:
    scenario = scenario_from_text(BASE.replace("{hidden: [8]}", "{kind: resnet8, hidden: [4]}"))
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    assert world.input_shape == (1, 8, 8)
    assert world.state_size > world.num_parameters  # BatchNorm statistics travel too


def test_evaluate_model_takes_any_architecture() -> None:
    world = world_of()
    model = world.model_factory()
    assert world.evaluate_model(model) == world.evaluate(world.initial_parameters())


@pytest.mark.parametrize("public", [0.0, 0.25])
def test_synthetic_world_holds_each_clients_fedprox_shard_split_like_sklearn(
    public: float,
) -> None:
    from sklearn.model_selection import train_test_split as sk_split

    from simfl.learning.builtin import synthetic_fedprox

    world = world_of(f"data: {{dataset: synthetic, public_fraction: {public}}}\n"
                     "partition: {num_clients: 5}\n")
    seed = world.scenario.seed
    sim = Simulation(world.scenario.epoch, seed)
    shards = synthetic_fedprox(0.5, 0.5, 5, sim.rng("partition"))
    public_seed = int(sim.rng("public_data").integers(2**31 - 1))
    tests, held = [], []
    for k, (client, shard) in enumerate(zip(world.clients, shards, strict=True)):
        train, test = sk_split(np.arange(len(shard)), test_size=0.2, random_state=seed + k)
        train, test = np.sort(train), np.sort(test)
        if public:
            kept, out = sk_split(np.arange(len(train)), test_size=public,
                                 random_state=public_seed + k)
            held.append(shard.x[train[np.sort(out)]])
            train = train[np.sort(kept)]
        assert np.array_equal(client.x.numpy(), shard.x[train])
        assert np.array_equal(client.labels, shard.y[train])
        assert client.test_x is not None
        assert np.array_equal(client.test_x.numpy(), shard.x[test])
        tests.append(shard.x[test])
    assert np.array_equal(world.test_x.numpy(), np.concatenate(tests))
    if public:
        assert world.public_x is not None
        assert np.array_equal(world.public_x.numpy(), np.concatenate(held))


def test_many_models_are_evaluated_one_by_one_with_the_sequential_executor() -> None:
    world = world_of("training: {executor: sequential}\n")
    w = world.initial_parameters()
    models = [w, w * 0.5, w * 2.0]
    assert world.evaluate_many(models) == [world.evaluate(v) for v in models]


def test_many_models_are_evaluated_in_one_batched_pass_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from simfl.learning import batched_evaluation

    world = world_of()
    calls = []
    batched = batched_evaluation.evaluate_batched

    def counted(*args: Any, **kwargs: Any) -> list[dict[str, float]]:
        calls.append(args[1].shape)
        return batched(*args, **kwargs)

    monkeypatch.setattr(batched_evaluation, "evaluate_batched", counted)
    w = world.initial_parameters()
    models = [w, w * 0.5, w * 2.0]
    got = world.evaluate_many(models)
    assert calls == [(3, world.state_size)]
    for values, v in zip(got, models, strict=True):
        assert values == pytest.approx(world.evaluate(v), abs=LOSS_NOISE)
