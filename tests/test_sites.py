"""Ground sites: validation with teaching messages and WGS84 positions."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import OrbitError, SimflError
from simfl.orbits.sites import GroundSite, check_unique_names, sites_ecef_km

ONE_MILLIMETRE_KM = 1e-6
WGS84_POLAR_RADIUS_KM = 6356.752314245


def test_equator_prime_meridian_is_on_the_x_axis_at_the_equatorial_radius() -> None:
    position = GroundSite("null island", 0.0, 0.0).ecef_km()
    assert position == pytest.approx([6378.137, 0.0, 0.0], abs=ONE_MILLIMETRE_KM)


def test_north_pole_is_at_the_polar_radius_plus_altitude() -> None:
    position = GroundSite("pole", 90.0, 0.0, alt_m=1000.0).ecef_km()
    assert position[2] == pytest.approx(WGS84_POLAR_RADIUS_KM + 1.0, abs=ONE_MILLIMETRE_KM)
    assert np.hypot(position[0], position[1]) < ONE_MILLIMETRE_KM


def test_longitudes_past_180_name_the_same_place() -> None:
    east = GroundSite("a", 10.0, 270.0).ecef_km()
    west = GroundSite("b", 10.0, -90.0).ecef_km()
    assert east == pytest.approx(west, abs=ONE_MILLIMETRE_KM)


def test_up_vector_is_a_unit_normal_to_the_ellipsoid() -> None:
    site = GroundSite("munich", 48.14, 11.58)
    up = site.up_vector()
    assert np.linalg.norm(up) == pytest.approx(1.0)
    lifted = GroundSite("munich high", 48.14, 11.58, alt_m=1000.0).ecef_km()
    assert (lifted - site.ecef_km()) == pytest.approx(up * 1.0, abs=ONE_MILLIMETRE_KM)


def test_sites_ecef_stacks_positions() -> None:
    sites = [GroundSite("a", 0.0, 0.0), GroundSite("b", 0.0, 90.0)]
    assert sites_ecef_km(sites).shape == (2, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lat_deg": 91.0}, r"lat_deg = 91.0 is outside \[-90, 90\].*swap lat and lon"),
        ({"lon_deg": 360.0}, r"lon_deg = 360.0 is outside \[-180, 360\)"),
        ({"lon_deg": -181.0}, r"lon_deg = -181.0 is outside"),
        ({"elevation_mask_deg": 90.0}, r"elevation_mask_deg = 90.0 is outside \[0, 90\)"),
        ({"elevation_mask_deg": -1.0}, r"elevation_mask_deg = -1.0"),
        ({"alt_m": 550_000.0}, r"metres \(not km\)"),
        ({"lat_deg": float("nan")}, "not a finite number"),
        ({"name": ""}, "empty"),
    ],
)
def test_invalid_sites_raise_teaching_errors(kwargs: dict, message: str) -> None:
    arguments = {"name": "site", "lat_deg": 10.0, "lon_deg": 20.0, **kwargs}
    with pytest.raises(OrbitError, match=message):
        GroundSite(**arguments)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(SimflError) as info:
        GroundSite("x", 100.0, 400.0, elevation_mask_deg=95.0)
    assert len(info.value.problems) == 3


def test_duplicate_site_names_are_rejected() -> None:
    sites = [GroundSite("a", 0.0, 0.0), GroundSite("a", 1.0, 1.0), GroundSite("b", 0.0, 0.0)]
    with pytest.raises(OrbitError, match=r"\['a'\] appear more than once"):
        check_unique_names(sites)
