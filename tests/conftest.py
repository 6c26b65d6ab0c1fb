"""Shared fixtures: small scenarios that run in a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario

REPO = Path(__file__).resolve().parents[1]
SHARED_ORBITS = REPO.parent / "shared" / "orbits"

SMALL_FEDAVG = """
name: small_fedavg
seed: 3
partition: {num_clients: 12, scheme: dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, epochs: 2, batch_size: 16}
devices: {compute: {distribution: lognormal, flops_per_s: 8e5, sigma: 1.0}}
algorithm: {name: fedavg, rounds: 6, clients_per_round: 4, deadline_s: 1.5}
output: {figures: false}
"""

SMALL_HIERARCHICAL = """
name: small_hierarchical
seed: 5
partition: {num_clients: 12, scheme: dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, epochs: 1, batch_size: 16}
algorithm: {name: hierarchical, rounds: 3, edges: 3, edge_rounds: 2, clients_per_edge_round: 2}
output: {figures: false}
"""


@pytest.fixture
def small_fedavg() -> Scenario:
    """A 12-client, 6-round FedAvg scenario with stragglers dropped at a deadline."""
    return scenario_from_text(SMALL_FEDAVG)


@pytest.fixture
def small_hierarchical() -> Scenario:
    """A 12-client, 3-edge, 3-round hierarchical FedAvg scenario."""
    return scenario_from_text(SMALL_HIERARCHICAL)
