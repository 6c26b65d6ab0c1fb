"""Tests of simfl.geo.zones and simfl.geo.grid: zones, point lookup, distances, grids."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.geo import (
    OUTSIDE,
    CircleArea,
    GridCell,
    PolygonArea,
    Zone,
    check_zones,
    distance_matrix_km,
    grid_zones,
    neighbours,
    zone_index,
)
from simfl.geo.areas import KM_PER_DEG
from simfl.orbits.regions import great_circle_km

ONE_METRE_KM = 1e-3
TINY_DEG = 1e-9


def _zones() -> list[Zone]:
    return [
        Zone("west", GridCell(0.0, 1.0, 0.0, 1.0)),
        Zone("east", GridCell(0.0, 1.0, 1.0, 2.0)),
        Zone("far", CircleArea(40.0, 40.0, 50.0)),
    ]


def test_zone_position_is_the_area_centroid() -> None:
    zone = Zone("z", PolygonArea.from_vertices([(0, 0), (0, 4), (2, 4), (2, 0)]))
    assert (zone.lat_deg, zone.lon_deg) == pytest.approx((1.0, 2.0))


def test_zone_index_finds_each_point_and_marks_outside() -> None:
    index = zone_index(_zones(), [0.5, 0.5, 40.0, 10.0], [0.5, 1.5, 40.0, 10.0])
    assert index.tolist() == [0, 1, 2, OUTSIDE]


def test_zone_index_keeps_the_shape_of_the_points() -> None:
    lat = np.full((2, 3), 0.5)
    assert zone_index(_zones(), lat, 0.5).shape == (2, 3)


def test_overlapping_zones_give_the_point_to_the_earlier_one() -> None:
    zones = [Zone("a", CircleArea(0.0, 0.0, 100.0)), Zone("b", CircleArea(0.0, 0.5, 100.0))]
    assert zone_index(zones, 0.0, 0.25).item() == 0


def test_distance_matrix_is_great_circle_between_positions() -> None:
    zones = _zones()
    distances = distance_matrix_km(zones)
    assert distances.shape == (3, 3)
    assert np.allclose(distances, distances.T) and np.allclose(distances.diagonal(), 0.0)
    expected = great_circle_km(0.5, 0.5, 40.0, 40.0)
    assert distances[0, 2] == pytest.approx(float(expected), abs=ONE_METRE_KM)


def test_neighbours_names_touching_zones() -> None:
    assert neighbours(_zones()) == {"west": ("east",), "east": ("west",), "far": ()}


def test_duplicate_zone_names_are_rejected() -> None:
    with pytest.raises(SimflError, match=r"zone names \['a'\] appear more than once"):
        check_zones([Zone("a", GridCell(0, 1, 0, 1)), Zone("a", GridCell(1, 2, 0, 1))])


def test_empty_zone_name_is_rejected() -> None:
    with pytest.raises(SimflError, match="zone name ' ' is empty"):
        Zone(" ", GridCell(0, 1, 0, 1))


def test_grid_in_degrees_tiles_the_box_and_cuts_the_last_column() -> None:
    zones = grid_zones(50.0, 52.0, 10.0, 12.5, cell_deg=1.0, prefix="de")
    assert [z.name for z in zones] == ["de-0-0", "de-0-1", "de-0-2", "de-1-0", "de-1-1", "de-1-2"]
    last = zones[2].area
    assert isinstance(last, GridCell)
    assert (last.lon_min_deg, last.lon_max_deg) == (12.0, 12.5)


def test_grid_with_separate_lat_and_lon_steps() -> None:
    zones = grid_zones(0.0, 2.0, 0.0, 3.0, cell_deg=(1.0, 1.5))
    assert len(zones) == 4


def test_every_point_of_the_box_is_in_exactly_one_cell() -> None:
    zones = grid_zones(45.0, 48.0, -3.0, 2.0, cell_km=80.0)
    rng = np.random.default_rng(1)
    lat = rng.uniform(45.0, 48.0, 500)
    lon = rng.uniform(-3.0, 2.0, 500)
    hits = np.stack([z.contains(lat, lon) for z in zones]).sum(axis=0)
    assert (hits == 1).all()


def test_km_grid_cells_are_the_asked_size_in_the_middle_of_each_row() -> None:
    cell_km = 100.0
    zones = grid_zones(60.0, 63.0, 0.0, 20.0, cell_km=cell_km)
    cell = zones[0].area
    assert isinstance(cell, GridCell)
    assert (cell.lat_max_deg - cell.lat_min_deg) * KM_PER_DEG == pytest.approx(cell_km)
    mid = 0.5 * (cell.lat_min_deg + cell.lat_max_deg)
    width_km = great_circle_km(mid, cell.lon_min_deg, mid, cell.lon_max_deg)
    assert float(width_km) == pytest.approx(cell_km, rel=1e-3)


def test_grid_needs_exactly_one_cell_size() -> None:
    with pytest.raises(SimflError, match="give exactly one of cell_deg"):
        grid_zones(0.0, 1.0, 0.0, 1.0, cell_deg=0.5, cell_km=10.0)


def test_grid_reports_every_problem_at_once() -> None:
    with pytest.raises(SimflError) as info:
        grid_zones(95.0, 1.0, 0.0, 1.0, cell_deg=-1.0)
    assert len(info.value.problems) == 2
    assert "latitude 95.0 is outside" in str(info.value)
    assert "cell_deg = -1.0 must be a positive number" in str(info.value)
