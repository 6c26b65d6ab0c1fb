"""Vectorized SGP4 in the Earth-fixed frame: skyfield agreement, failure masks, search tools."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sgp4.api import jday
from skyfield.api import EarthSatellite, load
from skyfield.framelib import itrs

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.frames import (
    ecef_to_geodetic,
    geodetic_to_ecef_km,
    gmst82_rad,
    julian_date,
    require_utc,
)
from simfl.orbits.propagate import (
    BEST,
    END,
    START,
    assemble_windows,
    bracketed_roots,
    hermite_states,
    newton_roots,
    propagate_ecef,
)
from simfl.orbits.tle import tle_lines_from_elements
from simfl.orbits.walker import walker_delta

FIFTY_METRES_KM = 0.05
ONE_METRE_KM = 0.001
ONE_CM_PER_S_KMS = 1e-5
ONE_MICROSECOND_DAYS = 1e-6 / 86_400.0
EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
START_UTC = EPOCH + timedelta(hours=3)


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    return walker_delta(53.0, 12, 3, 1, 550.0, EPOCH)


@pytest.fixture(scope="module")
def skyfield_itrs(shell: list[ElementSet]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Return (t_s, r_km, v_kms) from skyfield's ITRS frame, and its UT1 - UTC."""
    ts = load.timescale(builtin=True)
    t_s = np.linspace(0.0, 86_400.0, 49)
    times = ts.from_datetimes([START_UTC + timedelta(seconds=float(x)) for x in t_s])
    r, v = [], []
    for element in shell:
        sat = EarthSatellite(element.line1, element.line2, element.name, ts)
        position, velocity = sat.at(times).frame_xyz_and_velocity(itrs)
        r.append(position.km.T)
        v.append(velocity.km_per_s.T)
    return t_s, np.array(r), np.array(v), float(np.mean(times.dut1))


def test_earth_fixed_positions_match_skyfield_within_50_m(shell, skyfield_itrs) -> None:
    t_s, r_sky, v_sky, _ = skyfield_itrs
    states = propagate_ecef(shell, START_UTC, t_s)
    assert np.linalg.norm(states.r_km - r_sky, axis=-1).max() < FIFTY_METRES_KM
    assert np.linalg.norm(states.v_kms - v_sky, axis=-1).max() < 100 * ONE_CM_PER_S_KMS


def test_with_ut1_the_frames_agree_to_a_metre(shell, skyfield_itrs) -> None:
    t_s, r_sky, v_sky, dut1_s = skyfield_itrs
    states = propagate_ecef(shell, START_UTC, t_s, ut1_minus_utc_s=dut1_s)
    assert np.linalg.norm(states.r_km - r_sky, axis=-1).max() < ONE_METRE_KM
    assert np.linalg.norm(states.v_kms - v_sky, axis=-1).max() < ONE_CM_PER_S_KMS


def test_gmst_is_zero_hours_and_rotates_once_per_sidereal_day() -> None:
    theta, theta_dot = gmst82_rad(2_451_545.0, 0.0)
    # GMST at J2000.0 (2000-01-01 12:00 UT1) is 18h 41m 50.548s.
    assert theta == pytest.approx((18 + 41 / 60 + 50.54841 / 3600) / 24 * 2 * np.pi, abs=1e-9)
    assert 2 * np.pi / theta_dot == pytest.approx(86_164.0905, abs=1e-3)


def test_julian_date_matches_sgp4_jday() -> None:
    start = datetime(2026, 2, 24, 12, 34, 56, 250_000, tzinfo=UTC)
    jd, fr = julian_date(start, [0.0, 3600.0])
    jd_ref, fr_ref = jday(2026, 2, 24, 13, 34, 56.25)
    assert (jd[1] + fr[1]) - (jd_ref + fr_ref) == pytest.approx(0.0, abs=ONE_MICROSECOND_DAYS)
    assert fr[0] == pytest.approx((12 * 3600 + 34 * 60 + 56.25) / 86_400.0, abs=1e-15)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(OrbitError, match="no timezone"):
        require_utc(datetime(2026, 2, 24))


def test_geodetic_round_trip() -> None:
    lat = np.array([-89.0, -33.9, 0.0, 48.1, 89.9])
    lon = np.array([-179.0, 18.4, 0.0, 11.6, 120.0])
    alt_m = np.array([0.0, 100.0, 550_000.0, 520.0, 5_000.0])
    back_lat, back_lon, back_alt_km = ecef_to_geodetic(geodetic_to_ecef_km(lat, lon, alt_m))
    assert np.abs(back_lat - lat).max() < 1e-9
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_alt_km * 1000.0 - alt_m).max() < 1e-3


def decaying() -> ElementSet:
    line1, line2 = tle_lines_from_elements(
        norad_id=99002, epoch_utc=EPOCH, inclination_deg=53.0, raan_deg=0.0,
        eccentricity=0.0005, arg_perigee_deg=0.0, mean_anomaly_deg=0.0,
        mean_motion_rev_per_day=16.2, bstar_per_earth_radius=0.05,
    )
    return ElementSet("DECAYING", line1, line2)


def test_a_failing_satellite_is_invalid_from_its_first_error_on(shell) -> None:
    t_s = np.arange(0.0, 12 * 3600.0, 60.0)
    states = propagate_ecef([shell[0], decaying()], EPOCH, t_s)
    assert states.valid[0].all()
    first_error = int(np.flatnonzero(states.error_code[1])[0])
    assert 0 < first_error < t_s.size - 1
    assert states.valid[1, :first_error].all()
    assert not states.valid[1, first_error:].any()
    assert np.isnan(states.r_km[1, first_error:]).all()
    assert np.isfinite(states.r_km[1, :first_error]).all()
    assert list(states.last_valid_index) == [t_s.size - 1, first_error - 1]


def test_hermite_interpolation_of_60_s_steps_is_within_a_metre(shell) -> None:
    grid = propagate_ecef(shell, START_UTC, np.arange(0.0, 7200.0, 60.0))
    t0 = np.repeat(grid.t_s[:-1][None, :], len(shell), axis=0).ravel()
    t = t0 + 23.7
    exact = propagate_ecef(shell, START_UTC, grid.t_s[:-1] + 23.7)
    position, velocity = hermite_states(
        t0, t0 + 60.0, grid.r_km[:, :-1].reshape(-1, 3), grid.v_kms[:, :-1].reshape(-1, 3),
        grid.r_km[:, 1:].reshape(-1, 3), grid.v_kms[:, 1:].reshape(-1, 3), t,
    )
    assert np.linalg.norm(position - exact.r_km.reshape(-1, 3), axis=1).max() < ONE_METRE_KM
    assert np.linalg.norm(velocity - exact.v_kms.reshape(-1, 3), axis=1).max() < 1e-3


def test_bracketed_roots_find_each_root_within_tolerance() -> None:
    a = np.array([0.5, 2.0, 6.0])
    b = np.array([2.0, 5.0, 7.0])

    def f(rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.cos(t) + 0.0 * rows

    roots = bracketed_roots(f, a, b, np.cos(a), np.cos(b), tol_s=1e-9)
    assert roots[:2] == pytest.approx([np.pi / 2, 3 * np.pi / 2], abs=1e-9)
    assert roots[2] == 7.0  # no sign change: the end closer to zero


def test_newton_roots_use_the_derivative() -> None:
    a, b = np.array([0.5, 2.0]), np.array([2.0, 5.0])
    calls = []

    def f(rows: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(rows.size)
        return np.cos(t), -np.sin(t)

    roots = newton_roots(f, a, b, np.cos(a), np.cos(b), tol_s=1e-10)
    assert roots == pytest.approx([np.pi / 2, 3 * np.pi / 2], abs=1e-10)
    assert len(calls) <= 6


def test_assemble_windows_pairs_starts_and_ends_and_picks_the_best() -> None:
    windows = assemble_windows(
        np.array([1, 0, 0, 0, 1, 1]),
        np.array([5.0, 3.0, 1.0, 2.0, 5.5, 6.0]),
        np.array([START, END, START, BEST, BEST, END]),
        np.array([0.1, 0.0, 0.0, 0.9, 0.05, 0.2]),
        np.array([False, False, True, False, False, False]),
    )
    assert list(windows["pair"]) == [0, 1]
    assert list(windows["start_s"]) == [1.0, 5.0]
    assert list(windows["end_s"]) == [3.0, 6.0]
    assert list(windows["best_s"]) == [2.0, 6.0]
    assert list(windows["clipped"]) == [True, False]


def test_assemble_windows_rejects_unpaired_events() -> None:
    with pytest.raises(RuntimeError, match="unpaired"):
        assemble_windows(np.array([0, 0]), np.array([1.0, 2.0]), np.array([START, START]),
                         np.zeros(2), np.zeros(2, bool))
