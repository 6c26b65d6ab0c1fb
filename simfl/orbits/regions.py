"""Ground regions: circular areas on a spherical Earth where devices live.

A region's contacts are the contacts of its centre site with the region's elevation mask
(:meth:`GroundRegion.site`); devices are placed inside it with
:func:`sample_points_in_region`. Distances use a sphere of the mean Earth radius
(6371.0088 km, IUGG), which is within 0.5 % of the ellipsoid for region-sized distances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.frames import FloatArray, ecef_to_geodetic
from simfl.orbits.propagate import propagate_ecef
from simfl.orbits.sites import GroundSite

MEAN_EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 0.5 * math.pi * MEAN_EARTH_RADIUS_KM  # a hemisphere


@dataclass(frozen=True)
class GroundRegion:
    """A circular region: centre (geodetic degrees), radius along the surface (km), mask.

    Attributes
    ----------
    name
        Unique name; its centre site carries the same name.
    center_lat_deg, center_lon_deg
        Centre latitude in [-90, 90] and longitude in [-180, 360) degrees.
    radius_km
        Great-circle radius in (0, ~10,008] km (up to a hemisphere).
    elevation_mask_deg
        Mask of the region's contacts, in [0, 90).
    """

    name: str
    center_lat_deg: float
    center_lon_deg: float
    radius_km: float
    elevation_mask_deg: float = 10.0

    def __post_init__(self) -> None:
        self.site()  # validates name, centre and mask with GroundSite's messages
        if not (isinstance(self.radius_km, int | float) and 0 < self.radius_km <= MAX_RADIUS_KM):
            raise OrbitError(
                f"ground region {self.name!r}: radius_km = {self.radius_km!r} must be in "
                f"(0, {MAX_RADIUS_KM:.0f}] km (a great-circle distance; e.g. 500 for a country)"
            )

    def site(self) -> GroundSite:
        """Return the site at the region's centre, with the region's name and mask."""
        return GroundSite(self.name, self.center_lat_deg, self.center_lon_deg, 0.0,
                          self.elevation_mask_deg)

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
        """Return whether points are within ``radius_km`` of the centre, broadcast shape."""
        distance = great_circle_km(self.center_lat_deg, self.center_lon_deg, lat_deg, lon_deg)
        return np.asarray(distance <= self.radius_km * (1.0 + 1e-12))


def great_circle_km(lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike,
                    lon2_deg: ArrayLike) -> FloatArray:
    """Return haversine distances on the mean-radius sphere in km, broadcast shape."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64))
                              for x in (lat1_deg, lon1_deg, lat2_deg, lon2_deg))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2.0 * MEAN_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def regions_along_ground_track(
    element: ElementSet,
    start_utc: datetime,
    duration_s: float,
    count: int,
    radius_km: float,
    *,
    elevation_mask_deg: float = 10.0,
    name_prefix: str | None = None,
) -> list[GroundRegion]:
    """Return ``count`` regions centred on the satellite's sub-satellite points.

    Centres are the geodetic sub-satellite points at the midpoints of ``count`` equal slices
    of ``[0, duration_s]`` (times ``(i + 1/2) duration_s / count``), so they are evenly spaced
    in time along the ground track. Region ``i`` is named ``f"{name_prefix}-{i}"`` (default
    prefix: the satellite's name).
    """
    if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
        raise OrbitError(f"count = {count!r} must be a positive integer (number of regions)")
    if not (isinstance(duration_s, int | float) and duration_s > 0):
        raise OrbitError(f"duration_s = {duration_s!r} must be a positive number of seconds")
    t_s = (np.arange(count) + 0.5) * (float(duration_s) / count)
    states = propagate_ecef([element], start_utc, t_s)
    if not states.valid[0].all():
        bad_s = float(t_s[~states.valid[0]][0])
        raise OrbitError(
            f"SGP4 fails for {element.name!r} at t = {bad_s:.0f} s after {start_utc.isoformat()}"
            " (decayed or stale elements): use newer elements or a shorter duration_s"
        )
    lat, lon, _ = ecef_to_geodetic(states.r_km[0])
    prefix = element.name if name_prefix is None else name_prefix
    return [
        GroundRegion(f"{prefix}-{i}", float(lat[i]), float(lon[i]), radius_km,
                     elevation_mask_deg)
        for i in range(count)
    ]


def sample_points_in_region(region: GroundRegion, n: int, rng: np.random.Generator
                            ) -> tuple[FloatArray, FloatArray]:
    """Return ``(lat_deg, lon_deg)`` of ``n`` points uniform in area inside the region.

    Uniform on the sphere's cap: the cosine of the angular distance from the centre is
    uniform, the bearing is uniform; longitudes are in [-180, 180).
    """
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
        raise OrbitError(f"n = {n!r} must be a non-negative integer (number of points)")
    max_angle = region.radius_km / MEAN_EARTH_RADIUS_KM
    cos_angle = rng.uniform(math.cos(max_angle), 1.0, size=n)
    angle = np.arccos(np.clip(cos_angle, -1.0, 1.0))
    bearing = rng.uniform(0.0, 2.0 * math.pi, size=n)
    lat0 = math.radians(region.center_lat_deg)
    lon0 = math.radians(region.center_lon_deg)
    sin_lat = np.sin(lat0) * np.cos(angle) + np.cos(lat0) * np.sin(angle) * np.cos(bearing)
    lat = np.arcsin(np.clip(sin_lat, -1.0, 1.0))
    lon = lon0 + np.arctan2(np.sin(bearing) * np.sin(angle) * np.cos(lat0),
                            np.cos(angle) - np.sin(lat0) * sin_lat)
    lon_deg = (np.degrees(lon) + 180.0) % 360.0 - 180.0
    return np.degrees(lat), lon_deg
