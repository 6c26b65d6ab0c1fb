"""World map: shipped land outlines, antimeridian splitting, small circles."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from matplotlib.patches import Polygon
from matplotlib.path import Path

from simfl.analysis import draw_world, small_circle, split_antimeridian
from simfl.analysis.canvas import new_figure
from simfl.analysis.worldmap import EARTH_RADIUS_KM, join_segments, land_rings

ONE_METRE_KM = 1e-3


def _on_land(lon_deg: float, lat_deg: float) -> bool:
    inside = [Path(ring).contains_point((lon_deg, lat_deg)) for ring, hole in land_rings()
              if not hole]
    return any(inside)


def test_land_data_file_is_small() -> None:
    ref = resources.files("simfl.analysis").joinpath("data", "land_110m.npz")
    assert len(ref.read_bytes()) < 300 * 1024


def test_land_rings_are_within_the_globe() -> None:
    rings = land_rings()
    points = np.concatenate([ring for ring, _ in rings])
    assert len(rings) > 100
    assert points[:, 0].min() >= -180.0 and points[:, 0].max() <= 180.0
    assert points[:, 1].min() >= -90.0 and points[:, 1].max() <= 90.0


@pytest.mark.parametrize(("place", "lon_deg", "lat_deg"),
                         [("Paris", 2.35, 48.85), ("Nairobi", 36.82, -1.29),
                          ("Denver", -104.99, 39.74), ("Alice Springs", 133.88, -23.70)])
def test_cities_are_on_land(place: str, lon_deg: float, lat_deg: float) -> None:
    assert _on_land(lon_deg, lat_deg), place


@pytest.mark.parametrize(("lon_deg", "lat_deg"), [(-150.0, 0.0), (-30.0, 30.0), (80.0, -30.0)])
def test_open_ocean_is_not_land(lon_deg: float, lat_deg: float) -> None:
    assert not _on_land(lon_deg, lat_deg)


def test_draw_world_sets_up_a_plate_carree_axes() -> None:
    ax = new_figure(8.0, 4.0).add_subplot()
    draw_world(ax)
    assert ax.get_xlim() == (-180.0, 180.0)
    assert ax.get_ylim() == (-90.0, 90.0)
    assert sum(isinstance(p, Polygon) for p in ax.patches) == len(land_rings())
    assert ax.get_xlabel() == "longitude [deg]"


def test_track_crossing_the_antimeridian_is_split_at_the_edge() -> None:
    lon = np.array([170.0, 175.0, 179.0, -179.0, -175.0])
    lat = np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    (lon_a, lat_a), (lon_b, lat_b) = split_antimeridian(lon, lat)
    assert list(lon_a) == [170.0, 175.0, 179.0, 180.0]
    assert list(lon_b) == [-180.0, -179.0, -175.0]
    assert lat_a[-1] == pytest.approx(3.0) and lat_b[0] == pytest.approx(3.0)


def test_westward_crossing_is_split_too() -> None:
    segments = split_antimeridian(np.array([-178.0, 178.0]), np.array([10.0, 10.0]))
    assert [list(lon) for lon, _ in segments] == [[-178.0, -180.0], [180.0, 178.0]]


def test_track_without_crossing_is_one_segment() -> None:
    lon = np.array([-10.0, 0.0, 10.0])
    ((lon_a, _lat_a),) = split_antimeridian(lon, np.zeros(3))
    assert list(lon_a) == [-10.0, 0.0, 10.0]


def test_segments_never_jump_across_the_map() -> None:
    lon = (np.arange(0.0, 1500.0, 7.0) + 180.0) % 360.0 - 180.0
    segments = split_antimeridian(lon, np.zeros_like(lon))
    assert len(segments) == 5
    assert all(np.all(np.abs(np.diff(seg_lon)) <= 180.0) for seg_lon, _ in segments)


def test_joined_segments_are_separated_by_nan() -> None:
    lon, _ = join_segments(split_antimeridian(np.array([179.0, -179.0]), np.zeros(2)))
    assert np.isnan(lon).sum() == 1


def test_small_circle_points_are_at_the_radius() -> None:
    lon, lat = small_circle(45.0, 10.0, 1000.0)
    phi1, phi2 = np.radians(45.0), np.radians(lat)
    dlam = np.radians(lon - 10.0)
    cos_c = np.sin(phi1) * np.sin(phi2) + np.cos(phi1) * np.cos(phi2) * np.cos(dlam)
    distance_km = EARTH_RADIUS_KM * np.arccos(np.clip(cos_c, -1.0, 1.0))
    assert np.allclose(distance_km, 1000.0, atol=ONE_METRE_KM)


def test_small_circle_across_the_antimeridian_splits_into_east_west_east() -> None:
    lon, lat = small_circle(-17.7, 178.0, 1500.0)
    east, west, east_again = split_antimeridian(lon, lat)
    assert np.all(east[0] > 0) and np.all(west[0] < 0) and np.all(east_again[0] > 0)


def test_negative_radius_is_rejected() -> None:
    with pytest.raises(ValueError, match="radius_km must be >= 0"):
        small_circle(0.0, 0.0, -1.0)
