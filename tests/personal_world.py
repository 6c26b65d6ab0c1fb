"""A tiny world for the personalized algorithms: 12 digits devices with 2 labels each.

Device ``u`` holds labels ``u mod 10`` and ``(u + 1) mod 10`` (the pFedMe/PerMFL MNIST split)
and keeps a quarter of its shard as its own test data; 3 teams of 4 devices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from simfl.engine.simulation import stream_seed
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import TrainConfig, train_local
from simfl.runs.runner import RunResult
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.world import World

TWO_LABELS = """
name: tiny_personal
seed: 4
data: {client_test: holdout, client_test_fraction: 0.25}
partition: {num_clients: 12, scheme: labels_per_client, labels_per_client: 2,
            label_assignment: consecutive}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, steps: 2, batch_size: 16}
devices: {compute: {distribution: fixed, flops_per_s: 1 MFLOPS}}
groups: {count: 3}
algorithm: {name: local}
output: {figures: false}
"""


def personal_scenario(algorithm: str, **params: Any) -> Scenario:
    """Return the tiny two-label world running ``algorithm`` with ``params``."""
    from simfl.studies.variants import with_algorithm

    return with_algorithm(scenario_from_text(TWO_LABELS), algorithm, **params)


def trained(world: World, client: int, start: torch.Tensor, stream: str, cfg: TrainConfig,
            prox: tuple[torch.Tensor, float] | None = None) -> torch.Tensor:
    """Return ``start`` after ``train_local`` on ``client``'s data with the named stream."""
    model = world.model_factory()
    set_flat(model, start)
    shard = world.clients[client]
    rng = np.random.default_rng(stream_seed(world.scenario.seed, stream))
    train_local(model, shard.x, shard.y, cfg, rng, task=world.task, prox=prox)
    return get_flat(model)


def uploaders(result: RunResult, round: int) -> list[int]:
    """Return the devices that sent a model to the cloud in ``round``, sorted."""
    t = result.trace
    up = t[(t["kind"] == "transfer") & (t["round"] == round)
           & t["info"].str.contains('"device_cloud_up"')]
    return sorted(int(n.split("-")[1]) for n in up["node"])
