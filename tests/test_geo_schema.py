"""Tests of the geographic scenario sections and rules (simfl.scenario.geo_schema, geo_rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.errors import ScenarioError
from simfl.scenario.geo_rules import BUILTIN_COUNTRIES
from simfl.scenario.load import load_scenario, scenario_from_text
from tests.conftest import SMALL_GEO


def test_builtin_country_names_match_the_generator() -> None:
    from simfl.learning.geo_workouts import COUNTRIES

    assert set(BUILTIN_COUNTRIES) == set(COUNTRIES)


def test_a_zone_algorithm_needs_zone_groups() -> None:
    with pytest.raises(ScenarioError, match=r"groups.assignment: algorithm 'sgfusion' works on "
                                            r"geographic zones: set groups.assignment: zones"):
        scenario_from_text(SMALL_GEO, ["algorithm.name=sgfusion",
                                       "groups.assignment=contiguous"])


def test_zone_groups_need_a_dataset_of_zones() -> None:
    with pytest.raises(ScenarioError, match=r"data.dataset: groups.assignment 'zones' groups "
                                            r"users by the zone"):
        scenario_from_text("name: x\ngroups: {assignment: zones}\n"
                           "algorithm: {name: hierarchical}\n")


def test_zone_groups_take_no_count() -> None:
    with pytest.raises(ScenarioError, match=r"count is set by the dataset's zones"):
        scenario_from_text(SMALL_GEO, ["groups.count=3"])


def test_zone_groups_are_named_after_their_zones() -> None:
    with pytest.raises(ScenarioError, match=r"names are the zones' own"):
        scenario_from_text(SMALL_GEO, ["groups.names=[a, b]"])


def test_fitrec_needs_zones_and_its_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text("name: x\ndata: {dataset: fitrec}\n")
    text = str(info.value)
    assert "needs zones: set data.fitrec.zones" in text and "set data.path" in text


def test_fitrec_path_must_be_a_file(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\ndata: {dataset: fitrec, path: data, fitrec: {zones: {grid: "
                        "{lat_min_deg: 0, lat_max_deg: 1, lon_min_deg: 0, lon_max_deg: 1, "
                        "cell_deg: 1}}}}\n")
    (tmp_path / "data").mkdir()
    with pytest.raises(ScenarioError, match=r"is a directory, not a file; set it to the file "
                                            r"of FitRec's workouts"):
        load_scenario(scenario)


def test_a_zones_file_is_read_from_the_scenarios_folder(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\ndata: {dataset: fitrec, path: e.json, fitrec: "
                        "{zones: {file: zones.geojson}}}\n")
    loaded = load_scenario(scenario)
    assert loaded.data.fitrec.zones is not None
    assert loaded.data.fitrec.zones.file == tmp_path / "zones.geojson"


def test_unknown_countries_and_half_boxes_are_listed() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(SMALL_GEO, ['data.geo_workouts.countries=["atlantis", '
                                       '{name: mars, lat_min_deg: 1}]'])
    text = str(info.value)
    assert "country 'atlantis' is not built in" in text
    assert "country 'mars': give all four of" in text


def test_a_grid_takes_one_cell_size() -> None:
    with pytest.raises(ScenarioError, match=r"give exactly one of cell_deg and cell_km"):
        scenario_from_text("name: x\ndata: {dataset: fitrec, path: e.json, fitrec: {zones: "
                           "{grid: {lat_min_deg: 0, lat_max_deg: 1, lon_min_deg: 0, "
                           "lon_max_deg: 1}}}}\n")
