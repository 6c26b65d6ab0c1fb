"""Ground sites: a named place on the WGS84 ellipsoid with an elevation mask."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simfl.errors import OrbitError
from simfl.orbits.frames import FloatArray, geodetic_to_ecef_km, up_unit_vector


@dataclass(frozen=True)
class GroundSite:
    """A ground station or device location that satellites can see above a mask.

    Attributes
    ----------
    name
        Unique, human-readable name (used as the ``site`` column of contact plans).
    lat_deg
        Geodetic latitude in degrees, in [-90, 90].
    lon_deg
        Longitude in degrees east, in [-180, 360).
    alt_m
        Height above the WGS84 ellipsoid in metres.
    elevation_mask_deg
        Minimum elevation above the local horizon for a contact, in [0, 90).
    """

    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    elevation_mask_deg: float = 10.0

    def __post_init__(self) -> None:
        problems = []
        where = f"ground site {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(f"ground site name {self.name!r} is empty; give every site a name")
        for label, value in (
            ("lat_deg", self.lat_deg),
            ("lon_deg", self.lon_deg),
            ("alt_m", self.alt_m),
            ("elevation_mask_deg", self.elevation_mask_deg),
        ):
            if not _is_finite_number(value):
                problems.append(f"{where}: {label} = {value!r} is not a finite number")
        if problems:
            raise OrbitError(problems)
        if not -90.0 <= self.lat_deg <= 90.0:
            problems.append(
                f"{where}: lat_deg = {self.lat_deg} is outside [-90, 90]; latitude is degrees "
                "north of the equator (south is negative) - did you swap lat and lon?"
            )
        if not -180.0 <= self.lon_deg < 360.0:
            problems.append(
                f"{where}: lon_deg = {self.lon_deg} is outside [-180, 360); longitude is "
                "degrees east of Greenwich (west is negative, or 180-360)"
            )
        if not 0.0 <= self.elevation_mask_deg < 90.0:
            problems.append(
                f"{where}: elevation_mask_deg = {self.elevation_mask_deg} is outside [0, 90); "
                "typical masks are 10 deg (ground stations) to 25-40 deg (user terminals)"
            )
        if not -1_000.0 <= self.alt_m <= 10_000.0:
            problems.append(
                f"{where}: alt_m = {self.alt_m} is outside [-1000, 10000]; alt_m is the "
                "height above the WGS84 ellipsoid in metres (not km)"
            )
        if problems:
            raise OrbitError(problems)

    def ecef_km(self) -> FloatArray:
        """Return the site's WGS84 Earth-fixed position in km, shape ``(3,)``."""
        return geodetic_to_ecef_km(self.lat_deg, self.lon_deg, self.alt_m)

    def up_vector(self) -> FloatArray:
        """Return the local vertical (ellipsoid normal) as an Earth-fixed unit vector ``(3,)``."""
        return up_unit_vector(self.lat_deg, self.lon_deg)


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float | np.floating | np.integer)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def sites_ecef_km(sites: Sequence[GroundSite]) -> FloatArray:
    """Return the sites' Earth-fixed positions in km, shape ``(S, 3)``."""
    return np.array([site.ecef_km() for site in sites], dtype=np.float64).reshape(-1, 3)


def sites_up_vectors(sites: Sequence[GroundSite]) -> FloatArray:
    """Return the sites' local-vertical unit vectors, shape ``(S, 3)``."""
    return np.array([site.up_vector() for site in sites], dtype=np.float64).reshape(-1, 3)


def check_unique_names(sites: Sequence[GroundSite]) -> None:
    """Raise OrbitError if two sites share a name (contact plans are keyed by site name)."""
    counts = Counter(site.name for site in sites)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise OrbitError(
            f"ground site names {duplicates} appear more than once; contact plans identify "
            "sites by name, so give each site a unique name"
        )


@dataclass(frozen=True)
class SiteArrays:
    """Sites as arrays: positions ``(S, 3)`` km, up vectors ``(S, 3)``, ``sin(mask)`` ``(S,)``."""

    pos_km: FloatArray
    up: FloatArray
    sin_mask: FloatArray

    @classmethod
    def of(cls, sites: Sequence[GroundSite]) -> SiteArrays:
        """Return the arrays of ``sites`` (in order)."""
        masks = np.radians([s.elevation_mask_deg for s in sites])
        return cls(sites_ecef_km(sites), sites_up_vectors(sites), np.sin(masks).reshape(-1))
