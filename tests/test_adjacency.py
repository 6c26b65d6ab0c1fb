"""Tests of simfl.geo.adjacency: which areas touch."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.geo.adjacency import adjacency_matrix, touches
from simfl.geo.areas import KM_PER_DEG, CircleArea, GridCell, PolygonArea
from simfl.geo.grid import grid_zones

ONE_KM = 1.0


def _box(lat0: float, lat1: float, lon0: float, lon1: float) -> PolygonArea:
    return PolygonArea.from_vertices([(lat0, lon0), (lat0, lon1), (lat1, lon1), (lat1, lon0)])


def test_polygons_sharing_an_edge_touch() -> None:
    assert touches(_box(0, 1, 0, 1), _box(0, 1, 1, 2))


def test_polygons_sharing_only_a_corner_touch() -> None:
    assert touches(_box(0, 1, 0, 1), _box(1, 2, 1, 2))


def test_gap_counts_as_touching_only_below_the_tolerance() -> None:
    gap_deg = 5.0 / KM_PER_DEG  # 5 km between the boxes at the equator
    a, b = _box(0, 1, 0, 1), _box(0, 1, 1 + gap_deg, 2)
    assert not touches(a, b, tolerance_km=ONE_KM)
    assert touches(a, b, tolerance_km=5.5)


def test_shared_vertex_of_a_neighbour_on_the_middle_of_an_edge_touches() -> None:
    # b's corner lies on the middle of a's east edge: no shared vertex, zero distance.
    assert touches(_box(0, 2, 0, 1), _box(1, 3, 1, 2), tolerance_km=0.0)


def test_crossing_rectangles_without_vertices_inside_touch() -> None:
    wide, tall = _box(1, 2, 0, 3), _box(0, 3, 1, 2)
    assert touches(wide, tall, tolerance_km=0.0)


def test_polygon_inside_another_touches() -> None:
    assert touches(_box(0, 10, 0, 10), _box(4, 5, 4, 5), tolerance_km=0.0)


def test_discs_touch_when_their_centres_are_within_the_radii() -> None:
    centre_gap_km = 200.0
    a = CircleArea(0.0, 0.0, 100.0)
    b_touching = CircleArea(0.0, centre_gap_km / KM_PER_DEG, 100.5)
    b_apart = CircleArea(0.0, centre_gap_km / KM_PER_DEG, 98.0)
    assert touches(a, b_touching)
    assert not touches(a, b_apart)


def test_disc_and_polygon() -> None:
    box = _box(0, 1, 0, 1)
    inside = CircleArea(0.5, 0.5, 1.0)
    east_km = 20.0  # the disc's centre is 20 km east of the box
    near = CircleArea(0.5, 1.0 + east_km / KM_PER_DEG, 19.5)
    far = CircleArea(0.5, 1.0 + east_km / KM_PER_DEG, 15.0)
    assert touches(box, inside) and touches(near, box) and not touches(box, far)


def test_three_by_three_grid_has_queen_neighbours() -> None:
    cells = [z.area for z in grid_zones(0.0, 3.0, 0.0, 3.0, cell_deg=1.0)]
    adjacent = adjacency_matrix(cells, tolerance_km=0.0)
    counts = adjacent.sum(axis=1).reshape(3, 3)
    assert counts.tolist() == [[3, 5, 3], [5, 8, 5], [3, 5, 3]]
    assert (adjacent == adjacent.T).all() and not adjacent.diagonal().any()


def test_km_grid_rows_that_do_not_line_up_still_touch() -> None:
    zones = grid_zones(60.0, 62.0, 5.0, 9.0, cell_km=100.0)
    adjacent = adjacency_matrix([z.area for z in zones], tolerance_km=0.0)
    rows = [int(z.name.split("-")[1]) for z in zones]
    first_row = [i for i, r in enumerate(rows) if r == 0]
    second_row = [i for i, r in enumerate(rows) if r == 1]
    assert adjacent[np.ix_(first_row, second_row)].any(axis=1).all()


def test_grid_cells_and_polygons_mix() -> None:
    assert touches(GridCell(0.0, 1.0, 0.0, 1.0), _box(1, 2, 0, 1), tolerance_km=0.0)


def test_negative_tolerance_is_rejected() -> None:
    with pytest.raises(SimflError, match="tolerance_km = -1 must be a number >= 0"):
        touches(_box(0, 1, 0, 1), _box(0, 1, 1, 2), tolerance_km=-1)
