"""Tests of simfl.geo.areas: containment, centroids and areas of polygons, discs and cells."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simfl.analysis.worldmap import small_circle
from simfl.errors import SimflError
from simfl.geo.areas import KM_PER_DEG, CircleArea, GridCell, PolygonArea, polygon_from_lonlat
from simfl.orbits.regions import MEAN_EARTH_RADIUS_KM

TINY_DEG = 1e-9

SQUARE = [(0.0, 0.0), (0.0, 2.0), (2.0, 2.0), (2.0, 0.0)]  # (lat, lon)
HOLE = [(0.5, 0.5), (0.5, 1.5), (1.5, 1.5), (1.5, 0.5)]


def test_polygon_contains_is_vectorised_with_broadcasting() -> None:
    square = PolygonArea.from_vertices(SQUARE)
    lat = np.array([[1.0], [3.0]])
    lon = np.array([0.5, 1.5, -1.0])
    inside = square.contains(lat, lon)
    assert inside.shape == (2, 3)
    assert inside.tolist() == [[True, True, False], [False, False, False]]


def test_hole_is_outside_and_every_part_of_a_multipolygon_is_inside() -> None:
    far = [(10.0, 10.0), (10.0, 11.0), (11.0, 11.0)]
    area = PolygonArea(((np.array(SQUARE), np.array(HOLE)), (np.array(far),)))
    assert area.contains([0.25, 1.0, 10.2, 5.0], [0.25, 1.0, 10.5, 5.0]).tolist() == [
        True, False, True, False]


def test_closing_vertex_equal_to_the_first_is_dropped() -> None:
    closed = PolygonArea.from_vertices([*SQUARE, SQUARE[0]])
    assert len(closed.rings()[0]) == 4


def test_point_on_an_edge_shared_by_two_polygons_is_in_exactly_one() -> None:
    west = PolygonArea.from_vertices(SQUARE)
    east = PolygonArea.from_vertices([(0.0, 2.0), (0.0, 4.0), (2.0, 4.0), (2.0, 2.0)])
    lat = np.linspace(0.1, 1.9, 7)
    lon = np.full(7, 2.0)
    assert (west.contains(lat, lon).astype(int) + east.contains(lat, lon).astype(int) == 1).all()


def test_swapped_coordinates_are_named_in_the_error() -> None:
    with pytest.raises(SimflError, match=r"latitude 120.0 outside \[-90, 90\].*swapped"):
        PolygonArea.from_vertices([(10.0, 0.0), (120.0, 1.0), (11.0, 1.0)])


def test_ring_with_two_distinct_vertices_is_rejected() -> None:
    with pytest.raises(SimflError, match="fewer than 3 distinct"):
        PolygonArea.from_vertices([(0.0, 0.0), (1.0, 1.0), (0.0, 0.0), (1.0, 1.0)])


def test_polygon_from_lonlat_swaps_file_order_and_drops_altitude() -> None:
    area = polygon_from_lonlat([[[[10.0, 50.0, 3.0], [12.0, 50.0, 3.0], [12.0, 52.0, 3.0]]]])
    assert area.rings()[0][1].tolist() == [50.0, 12.0]


def test_rectangle_centroid_is_its_middle_and_a_hole_pulls_it_away() -> None:
    assert PolygonArea.from_vertices(SQUARE).centroid_deg() == pytest.approx((1.0, 1.0))
    corner_hole = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    holed = PolygonArea(((np.array(SQUARE), np.array(corner_hole)),))
    # Square of area 4 at (1, 1) minus unit square at (0.5, 0.5): (4 - 0.5) / 3 = 7/6.
    assert holed.centroid_deg() == pytest.approx((7 / 6, 7 / 6))


def test_one_degree_cell_at_the_equator_has_the_spherical_area() -> None:
    cell = GridCell(0.0, 1.0, 0.0, 1.0)
    exact_km2 = MEAN_EARTH_RADIUS_KM**2 * math.radians(1.0) * math.sin(math.radians(1.0))
    assert cell.area_km2() == pytest.approx(exact_km2, rel=1e-12)
    as_polygon = PolygonArea.from_vertices(cell.rings()[0])
    assert as_polygon.area_km2() == pytest.approx(exact_km2, rel=1e-12)


def test_small_disc_has_the_plane_area() -> None:
    disc = CircleArea(45.0, 7.0, 10.0)
    assert disc.area_km2() == pytest.approx(math.pi * 100.0, rel=1e-5)


def test_disc_contains_points_by_great_circle_distance() -> None:
    disc = CircleArea(60.0, 10.0, 100.0)
    north_deg = np.array([99.0, 101.0]) / KM_PER_DEG
    assert disc.contains(60.0 + north_deg, [10.0, 10.0]).tolist() == [True, False]


def test_disc_radius_must_be_positive() -> None:
    with pytest.raises(SimflError, match=r"radius_km = -5 must be in \(0,"):
        CircleArea(0.0, 0.0, -5)


def test_disc_bounds_hold_the_disc() -> None:
    disc = CircleArea(70.0, 20.0, 300.0)
    lat_min, lat_max, lon_min, lon_max = disc.bounds_deg()
    lon, lat = small_circle(70.0, 20.0, 300.0 * (1 - 1e-9), n_points=73)
    assert (lat >= lat_min - TINY_DEG).all() and (lat <= lat_max + TINY_DEG).all()
    assert (lon >= lon_min - TINY_DEG).all() and (lon <= lon_max + TINY_DEG).all()


def test_grid_cell_is_half_open() -> None:
    cell = GridCell(10.0, 11.0, 20.0, 21.0)
    assert cell.contains([10.0, 11.0, 10.5, 10.5], [20.5, 20.5, 20.0, 21.0]).tolist() == [
        True, False, True, False]


def test_empty_grid_cell_is_rejected() -> None:
    with pytest.raises(SimflError, match="is empty; need lat_min < lat_max"):
        GridCell(10.0, 10.0, 20.0, 21.0)
