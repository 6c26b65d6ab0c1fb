"""Tests of simfl.scenario.geo_datasets: users in zones as clients, zone groups, FitRec files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simfl.engine.simulation import Simulation
from simfl.errors import DataError, ScenarioError
from simfl.geo import GridCell, Zone, write_geojson_zones
from simfl.scenario.geo_datasets import scenario_zones
from simfl.scenario.load import scenario_from_text
from simfl.scenario.schema import Scenario
from simfl.scenario.world import World, build_world
from tests.conftest import SMALL_GEO

POSITION_TOL_DEG = 1e-9
GRID = "{grid: {lat_min_deg: 60, lat_max_deg: 61, lon_min_deg: 10, lon_max_deg: 12, cell_deg: 1}}"
"""Two 1-degree cells: west (lon 10-11) and east (lon 11-12)."""


def _world(scenario: Scenario) -> World:
    return build_world(scenario, Simulation(scenario.epoch, scenario.seed))


def _fitrec_scenario(data_path: Path, zones: str, extra: str = "") -> Scenario:
    return scenario_from_text(f"""
name: fr
data:
  dataset: fitrec
  path: {data_path}
  fitrec: {{seq_len: 4, test_fraction: 0.5, zones: {zones}{extra}}}
model: {{kind: lstm_per_step, hidden: [4]}}
groups: {{assignment: zones}}
algorithm: {{name: zone_fl, rounds: 1}}
output: {{figures: false}}
""")


def _workout(wid: int, user: int, lat: float, lon: float, n: int = 6) -> dict[str, Any]:
    return {"id": wid, "userId": user, "sport": "run", "gender": "male",
            "timestamp": [1_400_000_000 + 10 * i for i in range(n)],
            "latitude": [lat + 0.001 * i for i in range(n)], "longitude": [lon] * n,
            "altitude": [100.0 + i for i in range(n)],
            "heart_rate": [100 + 2 * i + wid for i in range(n)]}


@pytest.fixture
def fitrec_file(tmp_path: Path) -> Path:
    """Users 1 and 2 run in the west cell, user 3 in the east cell; user 4 only once."""
    rows = [_workout(1, 1, 60.1, 10.1), _workout(2, 1, 60.2, 10.2), _workout(3, 2, 60.3, 10.3),
            _workout(4, 2, 60.4, 10.4), _workout(5, 3, 60.1, 11.5), _workout(6, 3, 60.2, 11.6),
            _workout(7, 4, 60.3, 11.7)]
    path = tmp_path / "endomondoHR_proper.json"
    path.write_text("\n".join(repr(r) for r in rows) + "\n")
    return path


def test_generated_users_are_clients_grouped_by_their_zone() -> None:
    world = _world(scenario_from_text(SMALL_GEO))
    assert world.layout is not None and world.groups is not None
    assert world.groups.names == world.layout.names
    for group, zone in zip(world.groups, world.layout.zones, strict=True):
        assert {world.layout.client_zone[i] for i in group.clients} == {group.name}
        assert group.position_deg == pytest.approx((zone.lat_deg, zone.lon_deg),
                                                   abs=POSITION_TOL_DEG)


def test_every_user_keeps_its_own_test_workouts() -> None:
    world = _world(scenario_from_text(SMALL_GEO))
    assert world.task == "regression"
    for client in world.clients:
        assert client.test_y is not None and client.test_y.shape[1:] == client.y.shape[1:]
    assert sum(c.num_test_samples for c in world.clients) == len(world.test_y)


def test_context_adds_the_previous_workout_to_every_step() -> None:
    scenario = scenario_from_text(SMALL_GEO, ["data.geo_workouts.context=true"])
    world = _world(scenario)
    assert world.input_shape == (6, 7)
    model = world.model_factory()
    assert model.get_submodule("context").input_size == 4


def test_a_model_with_one_output_per_workout_is_refused_for_per_step_targets() -> None:
    scenario = scenario_from_text(SMALL_GEO, ["model.kind=lstm"])
    with pytest.raises(ScenarioError, match=r"per-step kind \(lstm_per_step"):
        _world(scenario)


def test_zones_of_the_generator_need_no_data() -> None:
    zones = scenario_zones(scenario_from_text(SMALL_GEO).data)
    assert [z.name for z in zones] == [f"norway-{r}-{c}" for r in range(2) for c in range(3)]


def test_fitrec_users_are_clients_of_the_zones_from_a_grid(fitrec_file: Path) -> None:
    world = _world(_fitrec_scenario(fitrec_file, GRID))
    assert world.layout is not None and world.groups is not None
    assert world.layout.names == ["cell-0-0", "cell-0-1"]
    assert [len(g.clients) for g in world.groups] == [2, 1]  # user 4 has a single workout


def test_fitrec_zones_from_geojson_and_wkt_csv_agree(fitrec_file: Path, tmp_path: Path) -> None:
    zones = [Zone("west", GridCell(60.0, 61.0, 10.0, 11.0)),
             Zone("east", GridCell(60.0, 61.0, 11.0, 12.0))]
    geojson = write_geojson_zones(zones, tmp_path / "zones.geojson")
    csv = tmp_path / "zones.csv"
    csv.write_text('name,geometry\nwest,"POLYGON ((10 60, 11 60, 11 61, 10 61, 10 60))"\n'
                   'east,"POLYGON ((11 60, 12 60, 12 61, 11 61, 11 60))"\n')
    members = []
    for path in (geojson, csv):
        world = _world(_fitrec_scenario(fitrec_file, f"{{file: {path}}}"))
        assert world.groups is not None
        members.append([(g.name, g.clients) for g in world.groups])
    assert members[0] == members[1] == [("west", [0, 1]), ("east", [2])]


def test_a_bad_zone_file_gets_a_clear_error(fitrec_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "zones.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}')
    with pytest.raises(DataError, match=r"zones.geojson: feature 0"):
        _world(_fitrec_scenario(fitrec_file, f"{{file: {bad}}}"))


def test_zones_that_miss_the_data_get_a_clear_error(fitrec_file: Path) -> None:
    far = "{grid: {lat_min_deg: -10, lat_max_deg: 0, lon_min_deg: 0, lon_max_deg: 10, cell_deg: 5}}"
    with pytest.raises(DataError, match=r"start outside every zone"):
        _world(_fitrec_scenario(fitrec_file, far))


def test_a_bad_fitrec_line_names_file_and_line(fitrec_file: Path) -> None:
    with fitrec_file.open("a") as fh:
        fh.write("{'id': 8, 'userId': 5\n")
    with pytest.raises(DataError, match=r"endomondoHR_proper.json:8: not a Python dict"):
        _world(_fitrec_scenario(fitrec_file, GRID))


def test_targets_keep_their_unit_and_scale_the_model_output() -> None:
    world = _world(scenario_from_text(SMALL_GEO))
    targets = np.concatenate([c.labels.ravel() for c in world.clients])
    model = world.model_factory()
    assert model.target_mean == pytest.approx(float(targets.mean()), rel=1e-6)
    assert 40.0 < model.target_mean < 200.0  # bpm
