"""Shared fixtures: small scenarios that run in a second or two."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
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
groups: {count: 3}
algorithm: {name: hierarchical, rounds: 3, edge_rounds: 2, clients_per_edge_round: 2}
output: {figures: false}
"""


SMALL_SPACE = """
name: small_space
seed: 0
partition: {num_clients: 6, scheme: region_dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, epochs: 1, batch_size: 32}
devices: {compute: {distribution: fixed, flops_per_s: 100 kFLOPS}}
algorithm: {name: fedmeld, duration_s: 1 h, eval_every_s: 30 min}
space:
  constellation:
    walker: {inclination_deg: 53, satellites: 24, planes: 2, phasing: 0, altitude_km: 550}
  horizon_s: 2 h
  cache_dir: null
  regions:
    - {name: r0, lat_deg: 14.95, lon_deg: 35.9}
    - {name: r1, lat_deg: 50.73, lon_deg: 86.99}
  ground_stations:
    - {name: gs0, lat_deg: 36.66, lon_deg: 162.84}
output: {figures: false}
"""
"""Two regions along the ground track of plane 0 of a 24/2 Walker shell and one ground
station further along it: satellites serve r0, then r1, then pass gs0."""


SMALL_GEO = """
name: small_geo
seed: 1
data:
  dataset: geo_workouts
  geo_workouts:
    countries: [{name: norway, rows: 2, cols: 3}]
    users_per_zone: 2
    workouts_per_user: 3
    seq_len: 6
model: {kind: lstm_per_step, hidden: [6]}
training: {optimizer: rmsprop, lr: 0.01, steps: 2, batch_size: 1000, loss: rmse}
groups: {assignment: zones}
algorithm: {name: zone_fl, rounds: 3}
output: {figures: false}
"""
"""Six zones (2 x 3 grid cells of Norway) of generated workouts, about two users each."""


def tiny_scenario(algorithm: str, **params: Any) -> Scenario:
    """Return a world of a second or two that runs ``algorithm`` (space algorithms get the
    small space world, zone algorithms the small geographic world, the others the small
    FedAvg world, with its shared settings kept)."""
    from simfl.scenario.registry import algorithm_spec
    from simfl.studies.variants import with_algorithm

    config = algorithm_spec(algorithm).config
    base = (SMALL_SPACE if config.needs_space else SMALL_GEO if config.needs_zones
            else SMALL_FEDAVG)
    return with_algorithm(scenario_from_text(base), algorithm, **params)


def trace_info(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the parsed ``info`` of each trace row (a list: pandas would turn dicts into
    structs)."""
    return [json.loads(s) if s else {} for s in frame["info"]]


@pytest.fixture
def small_fedavg() -> Scenario:
    """A 12-client, 6-round FedAvg scenario with stragglers dropped at a deadline."""
    return scenario_from_text(SMALL_FEDAVG)


@pytest.fixture
def small_geo() -> Scenario:
    """Zone FL over six zones of generated heart-rate workouts, 3 rounds."""
    return scenario_from_text(SMALL_GEO)


@pytest.fixture
def small_hierarchical() -> Scenario:
    """A 12-client, 3-edge, 3-round hierarchical FedAvg scenario."""
    return scenario_from_text(SMALL_HIERARCHICAL)


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the contact-plan cache of the tests out of the user's ~/.cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
