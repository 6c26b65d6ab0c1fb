"""Tests of simfl.orbits.site_file: sites from YAML or CSV, one teaching line per bad row."""

from __future__ import annotations

from pathlib import Path

import pytest

from simfl.errors import OrbitError
from simfl.orbits.site_file import load_sites


def problems(path: Path, mask_deg: float | None = None) -> list[str]:
    with pytest.raises(OrbitError) as info:
        load_sites(path, mask_deg)
    return info.value.problems


def test_yaml_and_csv_sites_load(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("- {name: madrid, lat_deg: 40.4, lon_deg: -3.7}\n")
    (tmp_path / "s.csv").write_text("name,lat_deg,lon_deg,alt_m\nmadrid,40.4,-3.7,650\n")
    assert load_sites(tmp_path / "s.yaml")[0].lon_deg == -3.7
    assert load_sites(tmp_path / "s.csv")[0].alt_m == 650.0


def test_a_list_where_a_number_belongs_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {name: madrid, lat_deg: 40.4, lon_deg: [1, 2]}\n")
    assert problems(path) == [f"{path}: sites[0]: lon_deg must be a number of degrees, got "
                              "[1, 2]"]


def test_booleans_text_and_nested_names_are_not_numbers_or_names(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {name: [a], lat_deg: true, lon_deg: '3', alt_m: x}\n")
    assert problems(path) == [f"{path}: sites[0]: name must be text, got ['a']; lat_deg must "
                              "be a number of degrees, got True; lon_deg must be a number of "
                              "degrees, got '3'; alt_m must be a number of metres, got 'x'"]


def test_a_text_cell_in_a_csv_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("name,lat_deg,lon_deg\nx,abc,3\ny,,4\n")
    assert problems(path) == [f"{path}:2: lat_deg must be a number of degrees, got 'abc'",
                              f"{path}:3: missing lat_deg"]


def test_the_missing_file_message_has_balanced_braces(tmp_path: Path) -> None:
    assert problems(tmp_path / "none.yaml") == [
        f"{tmp_path / 'none.yaml'}: sites file not found (a YAML list of {{name, lat_deg, "
        "lon_deg} mappings, or a CSV with those columns)"]


def test_a_bad_mask_for_every_site_blames_the_mask_not_a_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {name: madrid, lat_deg: 40.4, lon_deg: -3.7}\n")
    assert problems(path, mask_deg=100.0) == [
        "elevation mask 100 deg (given for every site) is outside [0, 90); typical masks are "
        "10 deg (ground stations) to 25-40 deg (user terminals)"]
