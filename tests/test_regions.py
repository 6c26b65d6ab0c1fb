"""Ground regions: membership, sampling devices inside, regions along a ground track."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load, wgs84

from simfl.errors import OrbitError
from simfl.orbits.contacts import compute_contacts
from simfl.orbits.regions import (
    MEAN_EARTH_RADIUS_KM,
    GroundRegion,
    great_circle_km,
    regions_along_ground_track,
    sample_points_in_region,
)
from simfl.orbits.walker import walker_delta

EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
ONE_HUNDREDTH_DEG = 0.01
BAVARIA = GroundRegion("bavaria", 48.8, 11.5, 150.0, elevation_mask_deg=20.0)


def test_the_site_of_a_region_is_its_centre_with_its_mask() -> None:
    site = BAVARIA.site()
    assert (site.name, site.lat_deg, site.lon_deg) == ("bavaria", 48.8, 11.5)
    assert site.elevation_mask_deg == 20.0


def test_contacts_of_a_region_are_those_of_its_centre() -> None:
    shell = walker_delta(53.0, 12, 3, 1, 550.0, EPOCH)
    plan = compute_contacts(shell, [BAVARIA.site()], EPOCH, 6 * 3600.0, workers=1)
    assert set(plan["site"]) == {"bavaria"}
    assert len(plan) > 0


def test_contains_uses_great_circle_distance() -> None:
    # One degree of latitude is 111.2 km on the mean sphere.
    assert BAVARIA.contains(48.8 + 1.3, 11.5)
    assert not BAVARIA.contains(48.8 + 1.4, 11.5)
    inside = BAVARIA.contains(np.array([48.8, 60.0]), np.array([11.5, 11.5]))
    assert list(inside) == [True, False]


def test_great_circle_quarter_of_the_equator() -> None:
    assert great_circle_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(
        np.pi / 2 * MEAN_EARTH_RADIUS_KM)


def test_sampled_points_lie_inside_and_fill_the_area() -> None:
    lat, lon = sample_points_in_region(BAVARIA, 4000, np.random.default_rng(1))
    assert lat.shape == lon.shape == (4000,)
    assert BAVARIA.contains(lat, lon).all()
    distance = great_circle_km(BAVARIA.center_lat_deg, BAVARIA.center_lon_deg, lat, lon)
    # Uniform in area on a small disc: half the points within radius / sqrt(2).
    assert np.mean(distance < BAVARIA.radius_km / np.sqrt(2)) == pytest.approx(0.5, abs=0.03)


def test_sampling_is_reproducible_from_the_generator() -> None:
    first = sample_points_in_region(BAVARIA, 10, np.random.default_rng(5))
    again = sample_points_in_region(BAVARIA, 10, np.random.default_rng(5))
    other = sample_points_in_region(BAVARIA, 10, np.random.default_rng(6))
    assert np.array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_regions_across_the_antimeridian_sample_valid_longitudes() -> None:
    fiji = GroundRegion("fiji", -17.7, 179.9, 300.0)
    lat, lon = sample_points_in_region(fiji, 500, np.random.default_rng(2))
    assert ((lon >= -180.0) & (lon < 180.0)).all()
    assert fiji.contains(lat, lon).all()


def test_regions_follow_the_sub_satellite_points() -> None:
    sat = walker_delta(53.0, 12, 3, 1, 550.0, EPOCH)[4]
    regions = regions_along_ground_track(sat, EPOCH, 5400.0, 6, 400.0)
    assert [r.name for r in regions] == [f"{sat.name}-{i}" for i in range(6)]
    ts = load.timescale(builtin=True)
    times = ts.from_datetimes([EPOCH + timedelta(seconds=(i + 0.5) * 900.0) for i in range(6)])
    sky = EarthSatellite(sat.line1, sat.line2, sat.name, ts)
    lat, lon = wgs84.latlon_of(sky.at(times))
    assert np.abs([r.center_lat_deg for r in regions] - lat.degrees).max() < ONE_HUNDREDTH_DEG
    assert np.abs([r.center_lon_deg for r in regions] - lon.degrees).max() < ONE_HUNDREDTH_DEG
    assert all(r.radius_km == 400.0 for r in regions)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"radius_km": 0.0}, "radius_km"),
        ({"radius_km": 30_000.0}, "radius_km"),
        ({"center_lat_deg": 95.0}, "lat_deg"),
        ({"elevation_mask_deg": 90.0}, "elevation_mask_deg"),
    ],
)
def test_invalid_regions_raise_teaching_errors(kwargs: dict, message: str) -> None:
    arguments = {"name": "r", "center_lat_deg": 0.0, "center_lon_deg": 0.0,
                 "radius_km": 100.0, **kwargs}
    with pytest.raises(OrbitError, match=message):
        GroundRegion(**arguments)


def test_bad_counts_are_rejected() -> None:
    sat = walker_delta(53.0, 12, 3, 1, 550.0, EPOCH)[0]
    with pytest.raises(OrbitError, match="count"):
        regions_along_ground_track(sat, EPOCH, 3600.0, 0, 100.0)
    with pytest.raises(OrbitError, match="non-negative"):
        sample_points_in_region(BAVARIA, -1, np.random.default_rng(0))
