"""Reference frames: UTC instants as Julian dates, TEME -> Earth-fixed, WGS84 geodetic <-> ECEF.

SGP4 returns states in TEME (true equator, mean equinox). The Earth-fixed frame used here is
the pseudo Earth-fixed frame PEF: TEME rotated about z by Greenwich mean sidereal time
(IAU 1982, AIAA 2006-6753 appendix C, the rotation skyfield's ``TEME`` frame uses).

Two small effects are left out (the second one by default):

- **Polar motion** (PEF vs ITRF): the pole wanders by ~0.3 arcsec, i.e. ~10 m at the
  Earth's surface and ~10 m at LEO radius (1.5e-6 rad x 7,000 km). Never more than ~20 m.
- **UT1 - UTC** (``ut1_minus_utc_s``, default 0): |UT1 - UTC| < 0.9 s by definition of UTC.
  Ignoring it rotates the Earth by up to 0.9 s x 465 m/s = ~420 m at the equator (~450 m at
  LEO radius). In February 2026 it is +0.062 s: ~30 m, and rises/sets move by up to 31 ms
  (measured against skyfield on Starlink passes; 0.7 ms when it is passed). Pass the IERS
  Bulletin A value for millisecond work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simfl.errors import OrbitError

SECONDS_PER_DAY = 86_400.0
J2000_JD = 2_451_545.0
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
_JD_UNIX_EPOCH = 2_440_587.5

FloatArray = NDArray[np.float64]


def require_utc(start_utc: datetime, what: str = "start_utc") -> datetime:
    """Return ``start_utc`` converted to UTC; raise OrbitError if it is naive."""
    if not isinstance(start_utc, datetime):
        raise OrbitError(
            f"{what} = {start_utc!r} is not a datetime; pass a timezone-aware datetime, "
            "e.g. datetime(2026, 2, 24, 12, tzinfo=UTC)"
        )
    if start_utc.tzinfo is None or start_utc.utcoffset() is None:
        raise OrbitError(
            f"{what} = {start_utc.isoformat()} has no timezone; orbits need an absolute "
            "instant: pass datetime(..., tzinfo=UTC) (from datetime import UTC)"
        )
    return start_utc.astimezone(UTC)


def julian_date(start_utc: datetime, t_s: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``(jd, fr)``: the UTC Julian date of ``start_utc + t_s`` split in two parts.

    ``jd`` is the midnight (x.5) Julian date of ``start_utc``'s day and ``fr`` the fraction of
    a day since then (may exceed 1), shapes of ``t_s``. The split keeps microsecond precision,
    as SGP4's ``sgp4(jd, fr)`` expects.
    """
    start = require_utc(start_utc)
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    jd_midnight = _JD_UNIX_EPOCH + round(midnight.timestamp()) / SECONDS_PER_DAY
    since_midnight_s = (start - midnight).total_seconds()
    t = np.asarray(t_s, dtype=np.float64)
    fr = (since_midnight_s + t) / SECONDS_PER_DAY
    return np.full(t.shape, jd_midnight), fr


def gmst82_rad(jd_ut1: ArrayLike, fr_ut1: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``(theta_rad, theta_dot_rad_s)``: Greenwich mean sidereal angle (IAU 1982).

    ``theta`` is in [0, 2 pi) and ``theta_dot`` the Earth's rotation rate in rad/s (of UT1),
    both of the broadcast shape of the inputs.
    """
    jd = np.asarray(jd_ut1, dtype=np.float64)
    fr = np.asarray(fr_ut1, dtype=np.float64)
    t_cent = (jd - J2000_JD + fr) / 36_525.0
    g_s = 67_310.54841 + (8_640_184.812866 + (0.093104 + (-6.2e-6) * t_cent) * t_cent) * t_cent
    dg = 8_640_184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t_cent) * t_cent
    theta = (jd % 1.0 + fr + g_s / SECONDS_PER_DAY % 1.0) % 1.0 * (2.0 * np.pi)
    theta_dot = (1.0 + dg / (SECONDS_PER_DAY * 36_525.0)) * (2.0 * np.pi) / SECONDS_PER_DAY
    return theta, theta_dot


def teme_to_ecef(
    r_teme_km: FloatArray,
    v_teme_kms: FloatArray,
    jd: ArrayLike,
    fr: ArrayLike,
    *,
    ut1_minus_utc_s: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Return ``(r_km, v_kms)`` rotated from TEME to Earth-fixed (PEF), shapes ``(..., T, 3)``.

    Parameters
    ----------
    r_teme_km, v_teme_kms
        TEME positions (km) and velocities (km/s), shape ``(..., T, 3)``.
    jd, fr
        UTC Julian date parts of the ``T`` instants (see :func:`julian_date`).
    ut1_minus_utc_s
        UT1 - UTC in seconds (IERS bulletin A); 0 costs at most ~420 m at the equator.

    The velocity includes the transport term ``-omega x r``. Polar motion is ignored
    (< ~20 m, see the module docstring).
    """
    fr_ut1 = np.asarray(fr, dtype=np.float64) + ut1_minus_utc_s / SECONDS_PER_DAY
    theta, theta_dot = gmst82_rad(jd, fr_ut1)
    c, s, omega = np.cos(theta), np.sin(theta), theta_dot
    r = np.asarray(r_teme_km, dtype=np.float64)
    v = np.asarray(v_teme_kms, dtype=np.float64)
    r_f, v_f = np.empty_like(r), np.empty_like(v)
    x_f, y_f = r_f[..., 0], r_f[..., 1]
    np.multiply(c, r[..., 0], out=x_f)
    x_f += s * r[..., 1]
    np.multiply(c, r[..., 1], out=y_f)
    y_f -= s * r[..., 0]
    r_f[..., 2] = r[..., 2]
    vx_f, vy_f = v_f[..., 0], v_f[..., 1]
    np.multiply(c, v[..., 0], out=vx_f)
    vx_f += s * v[..., 1]
    vx_f += omega * y_f
    np.multiply(c, v[..., 1], out=vy_f)
    vy_f -= s * v[..., 0]
    vy_f -= omega * x_f
    v_f[..., 2] = v[..., 2]
    return r_f, v_f


def geodetic_to_ecef_km(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike) -> FloatArray:
    """Return WGS84 Earth-fixed positions (km), shape ``(..., 3)`` of the broadcast inputs."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h_km = np.asarray(alt_m, dtype=np.float64) / 1000.0
    sin_lat = np.sin(lat)
    n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n_km + h_km) * np.cos(lat) * np.cos(lon)
    y = (n_km + h_km) * np.cos(lat) * np.sin(lon)
    z = (n_km * (1.0 - WGS84_E2) + h_km) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def up_unit_vector(lat_deg: ArrayLike, lon_deg: ArrayLike) -> FloatArray:
    """Return the local vertical (geodetic normal) as Earth-fixed unit vectors, ``(..., 3)``."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    parts = (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))
    return np.stack(np.broadcast_arrays(*parts), axis=-1)


def ecef_to_geodetic(r_km: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return ``(lat_deg, lon_deg, alt_km)`` (WGS84) of Earth-fixed positions ``(..., 3)``.

    Longitude is in (-180, 180]. Uses Bowring's method with three iterations (sub-millimetre
    for any point above the Earth's centre region).
    """
    r = np.asarray(r_km, dtype=np.float64)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(3):
        sin_lat = np.sin(lat)
        n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
        lat = np.arctan2(z + WGS84_E2 * n_km * sin_lat, p)
    sin_lat = np.sin(lat)
    n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    cos_lat = np.cos(lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        alt_km = np.where(
            np.abs(cos_lat) > 1e-9,
            p / np.where(cos_lat == 0, 1.0, cos_lat) - n_km,
            np.abs(z) - n_km * (1.0 - WGS84_E2),
        )
    return np.degrees(lat), np.degrees(lon), alt_km


def sin_elevation_and_rate(
    r_km: FloatArray, v_kms: FloatArray, site_km: FloatArray, up: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return ``(sin_el, d sin_el / dt in 1/s)`` of Earth-fixed states seen from sites.

    All inputs broadcast over leading dimensions with a last axis of 3: satellite position
    (km) and velocity (km/s), site position (km) and the site's unit up vector.
    """
    d = r_km - site_km
    up_km = np.sum(d * up, axis=-1)
    rho_km = np.sqrt(np.sum(d * d, axis=-1))
    sin_el = up_km / rho_km
    rate = np.sum(v_kms * up, axis=-1) / rho_km - up_km * np.sum(d * v_kms, axis=-1) / rho_km**3
    return sin_el, rate
