"""Walker-delta shells: i:T/P/F constellations as SGP4 element sets, and the shells we ship.

A Walker-delta pattern i:T/P/F puts ``T`` satellites in ``P`` equally spaced circular planes
of inclination ``i`` (plane ``p`` has RAAN ``360 p / P``), ``S = T / P`` satellites per plane
equally spaced in mean anomaly, and shifts plane ``p`` by ``360 F p / T`` degrees so that
neighbouring planes interleave (J. G. Walker, "Satellite constellations", J. British
Interplanetary Society 37, 1984).

Altitude: SGP4's mean motion is a mean element (Kozai), so Kepler's third law alone misses the
propagated altitude by up to ~3 km (J2 short-period terms). :func:`walker_delta` starts from
Kepler's law with WGS72 constants and corrects the semi-major axis until the SGP4-propagated
``|r| - 6378.135 km``, averaged over one orbit, equals the requested altitude (to < 10 m).

The shells shipped in the repository's ``orbits/`` folder are :data:`SHIPPED_SHELLS`, written by
:func:`write_shipped_shells` (see ``orbits/README.md``).
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sgp4.api import WGS72, Satrec

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.tle import tle_lines_from_elements, write_tle

__all__ = [
    "EARTH_RADIUS_KM",
    "MU_KM3_PER_S2",
    "SHIPPED_EPOCH_UTC",
    "SHIPPED_SHELLS",
    "mean_altitude_km",
    "walker_delta",
    "write_shipped_shells",
]

MU_KM3_PER_S2 = 398600.8  # WGS72, as SGP4 uses
EARTH_RADIUS_KM = 6378.135  # WGS72 equatorial radius
MIN_ALTITUDE_KM = 100.0
_SGP4_EPOCH = datetime(1949, 12, 31, tzinfo=UTC)  # sgp4init counts days from here
_SAMPLES_PER_ORBIT = 360

SHIPPED_EPOCH_UTC = datetime(2026, 2, 24, tzinfo=UTC)
SHIPPED_SHELLS: dict[str, dict[str, object]] = {
    "starlink_like_53deg_550km_72x22.tle": dict(
        inclination_deg=53.0, total_satellites=1584, planes=72, phasing=1, altitude_km=550.0,
        name_prefix="STARLINK-LIKE", first_norad_id=90000,
    ),
    "iridium_like_86deg_780km_6x11.tle": dict(
        inclination_deg=86.4, total_satellites=66, planes=6, phasing=2, altitude_km=780.0,
        name_prefix="IRIDIUM-LIKE", first_norad_id=92000,
    ),
    "demo_shell_12.tle": dict(
        inclination_deg=53.0, total_satellites=12, planes=3, phasing=1, altitude_km=550.0,
        name_prefix="DEMO", first_norad_id=93000,
    ),
}  # fmt: skip


def walker_delta(
    inclination_deg: float,
    total_satellites: int,
    planes: int,
    phasing: int,
    altitude_km: float,
    epoch_utc: datetime,
    *,
    name_prefix: str = "WALKER",
    first_norad_id: int = 90000,
    eccentricity: float = 0.0,
    bstar: float = 0.0,
) -> list[ElementSet]:
    """Return the ``total_satellites`` element sets of a Walker-delta shell, plane by plane.

    Satellite ``s`` of plane ``p`` (both from 0) is named ``f"{name_prefix}-P{p}-S{s}"``
    (zero-padded), has NORAD id ``first_norad_id + p * S + s``, RAAN ``360 p / P`` deg,
    argument of perigee 0 and mean anomaly ``360 s / S + 360 F p / T`` deg (mod 360).

    Parameters
    ----------
    inclination_deg
        Orbit inclination i, 0-180 degrees.
    total_satellites, planes, phasing
        T, P and F of the i:T/P/F notation (T divisible by P, 0 <= F < P).
    altitude_km
        Mean altitude over one orbit, ``|r| - 6378.135 km`` as SGP4 propagates it (> 100 km).
    epoch_utc
        Element-set epoch, a timezone-aware datetime.
    eccentricity, bstar
        Same for every satellite (circular and drag-free by default); BSTAR in 1/earth radii.

    Raises
    ------
    OrbitError
        One line per invalid argument, with the rule and a fix.
    """
    _validate(inclination_deg, total_satellites, planes, phasing, altitude_km, epoch_utc,
              first_norad_id, eccentricity)  # fmt: skip
    per_plane = total_satellites // planes
    mean_motion_rev_per_day = _calibrated_mean_motion(
        inclination_deg, altitude_km, eccentricity, bstar, epoch_utc
    )
    plane_width, sat_width = len(str(planes - 1)), len(str(per_plane - 1))
    sets = []
    for p in range(planes):
        for s in range(per_plane):
            norad_id = first_norad_id + p * per_plane + s
            line1, line2 = tle_lines_from_elements(
                norad_id=norad_id,
                epoch_utc=epoch_utc,
                inclination_deg=inclination_deg,
                raan_deg=360.0 * p / planes,
                eccentricity=eccentricity,
                arg_perigee_deg=0.0,
                mean_anomaly_deg=360.0 * s / per_plane + 360.0 * phasing * p / total_satellites,
                mean_motion_rev_per_day=mean_motion_rev_per_day,
                bstar_per_earth_radius=bstar,
                element_set_no=1,
                where=f"walker satellite {norad_id}",
            )
            name = f"{name_prefix}-P{p:0{plane_width}d}-S{s:0{sat_width}d}"
            sets.append(ElementSet(name, line1, line2))
    return sets


def mean_altitude_km(sat: Satrec, samples: int = _SAMPLES_PER_ORBIT) -> float:
    """Return ``|r| - 6378.135 km`` averaged over the first orbit after epoch (km).

    The orbit is sampled at ``samples`` equally spaced times over one period ``2 pi / n``.
    """
    period_min = 2.0 * math.pi / sat.no_kozai
    t_min = np.arange(samples) * (period_min / samples)
    jd = np.full(samples, sat.jdsatepoch)
    errors, r_km, _ = sat.sgp4_array(jd, sat.jdsatepochF + t_min / 1440.0)
    if np.any(errors):
        raise OrbitError(
            f"SGP4 error {int(errors.max())} while propagating NORAD {sat.satnum} over one orbit "
            "(the orbit decays or is invalid; raise the altitude or lower BSTAR)"
        )
    return float(np.linalg.norm(r_km, axis=1).mean() - EARTH_RADIUS_KM)


def write_shipped_shells(directory: str | os.PathLike[str]) -> list[Path]:
    """Write the shells of :data:`SHIPPED_SHELLS` (epoch 2026-02-24T00:00Z) and return paths."""
    paths = []
    for file_name, spec in SHIPPED_SHELLS.items():
        shell = walker_delta(epoch_utc=SHIPPED_EPOCH_UTC, **spec)  # type: ignore[arg-type]
        paths.append(write_tle(Path(directory) / file_name, shell))
    return paths


def _calibrated_mean_motion(
    inclination_deg: float, altitude_km: float, eccentricity: float, bstar: float, epoch: datetime
) -> float:
    """Return the TLE mean motion (rev/day, 8 decimals) whose SGP4 mean altitude is right."""
    semi_major_km = EARTH_RADIUS_KM + altitude_km
    epoch_days = (epoch - _SGP4_EPOCH).total_seconds() / 86400.0
    for _ in range(8):
        n_rad_per_min = math.sqrt(MU_KM3_PER_S2 / semi_major_km**3) * 60.0
        sat = Satrec()
        sat.sgp4init(WGS72, "i", 1, epoch_days, bstar, 0.0, 0.0, eccentricity, 0.0,
                     math.radians(inclination_deg), 0.0, n_rad_per_min, 0.0)  # fmt: skip
        error_km = mean_altitude_km(sat) - altitude_km
        if abs(error_km) < 1e-3:
            break
        semi_major_km -= error_km
    return round(n_rad_per_min * 1440.0 / (2.0 * math.pi), 8)


def _validate(
    inclination_deg: float,
    total: int,
    planes: int,
    phasing: int,
    altitude_km: float,
    epoch_utc: datetime,
    first_norad_id: int,
    eccentricity: float,
) -> None:
    problems = []
    if not 0.0 <= inclination_deg <= 180.0:
        problems.append(
            f"inclination_deg is {inclination_deg} (it must be 0-180; above 90 is retrograde, "
            "e.g. 97.6 for sun-synchronous at 550 km)"
        )
    if planes < 1 or total < 1 or total % planes:
        problems.append(
            f"total_satellites T={total} is not divisible by planes P={planes} (Walker-delta "
            f"puts T/P satellites in each plane; e.g. T={max(planes, 1) * 22} for 22 per plane)"
        )
    if not 0 <= phasing < max(planes, 1):
        problems.append(
            f"phasing F={phasing} is out of range (0 <= F < P={planes}; F shifts neighbouring "
            "planes by 360 F / T degrees, F=1 is common)"
        )
    if not altitude_km > MIN_ALTITUDE_KM:
        problems.append(
            f"altitude_km is {altitude_km} (it must exceed {MIN_ALTITUDE_KM} km, where orbits "
            "decay within hours; LEO shells sit at 300-2000 km, e.g. 550)"
        )
    if not 0.0 <= eccentricity < 0.1:
        problems.append(
            f"eccentricity is {eccentricity} (Walker shells are near-circular: 0 <= e < 0.1)"
        )
    if epoch_utc.tzinfo is None:
        problems.append(
            f"epoch_utc {epoch_utc} has no time zone (give an aware datetime, e.g. "
            "datetime(2026, 2, 24, tzinfo=UTC))"
        )
    last_id = first_norad_id + max(total, 1) - 1
    if first_norad_id < 0 or last_id > 339999:
        problems.append(
            f"NORAD ids {first_norad_id}..{last_id} do not fit a TLE (0-339999 with alpha-5; "
            "lower first_norad_id)"
        )
    if problems:
        raise OrbitError(problems)
