"""Shapes of zones on the ground: lat/lon polygons, great-circle discs and lat/lon grid cells.

Polygon edges are straight lines in the (longitude, latitude) plane, as in GeoJSON and WKT
files (and as shapely treats them); polygons must not cross the antimeridian (split them
there, as RFC 7946 asks). A disc is the set of points within ``radius_km`` along the surface
of a sphere of the mean Earth radius. Containment is vectorised over points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simfl.errors import SimflError
from simfl.orbits.regions import MAX_RADIUS_KM, MEAN_EARTH_RADIUS_KM, great_circle_km

KM_PER_DEG = MEAN_EARTH_RADIUS_KM * math.pi / 180.0  # along a meridian: about 111.2 km
MAX_PAIRS = 1 << 20  # points x edges evaluated at once by the ray casting (memory bound)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _points(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64),
                                   np.asarray(lon_deg, dtype=np.float64))
    return lat, lon


@dataclass(frozen=True, eq=False)
class PolygonArea:
    """One or more polygons with holes; vertices in degrees, ``(lat_deg, lon_deg)`` pairs.

    Attributes
    ----------
    polygons
        Tuple of polygons; each is a tuple of rings, the first the outer boundary and the
        others holes. A ring is a float64 array ``(n, 2)`` of ``(lat_deg, lon_deg)`` with at
        least 3 distinct vertices; a closing vertex equal to the first is dropped.
        Containment uses the even-odd rule over all rings, so holes and separate parts
        (MultiPolygon) work without further bookkeeping.
    """

    polygons: tuple[tuple[FloatArray, ...], ...]

    def __post_init__(self) -> None:
        problems: list[str] = []
        cleaned = []
        if not self.polygons:
            problems.append("polygon has no parts; give at least one ring of 3 or more vertices")
        for p, rings in enumerate(self.polygons):
            if not rings:
                problems.append(f"polygon part {p} has no rings; give its outer ring")
            part = []
            for r, ring in enumerate(rings):
                where = f"polygon part {p} ring {r}" if len(self.polygons) > 1 or r else "polygon"
                arr, problem = _clean_ring(ring, where)
                if problem:
                    problems.append(problem)
                part.append(arr)
            cleaned.append(tuple(part))
        if problems:
            raise SimflError(problems)
        object.__setattr__(self, "polygons", tuple(cleaned))

    @classmethod
    def from_vertices(cls, lat_lon_deg: ArrayLike) -> PolygonArea:
        """Return a polygon of one ring, ``lat_lon_deg`` an ``(n, 2)`` array of (lat, lon)."""
        return cls(((np.asarray(lat_lon_deg, dtype=np.float64),),))

    def rings(self) -> list[FloatArray]:
        """Return every ring (outer boundaries and holes), each ``(n, 2)`` (lat, lon) deg."""
        return [ring for rings in self.polygons for ring in rings]

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> BoolArray:
        """Return whether points are inside (even-odd rule), broadcast shape of the inputs.

        A point exactly on an edge may count as in or out, but a point on an edge shared by
        two polygons of a tiling is in exactly one of them.
        """
        lat, lon = _points(lat_deg, lon_deg)
        inside = np.zeros(lat.shape, dtype=bool)
        flat_lat, flat_lon, flat_in = lat.ravel(), lon.ravel(), inside.reshape(-1)
        for ring in self.rings():
            flat_in ^= odd_crossings(flat_lat, flat_lon, ring)
        return flat_in.reshape(lat.shape)

    def bounds_deg(self) -> tuple[float, float, float, float]:
        """Return ``(lat_min, lat_max, lon_min, lon_max)`` in degrees."""
        allv = np.concatenate(self.rings())
        return (float(allv[:, 0].min()), float(allv[:, 0].max()),
                float(allv[:, 1].min()), float(allv[:, 1].max()))

    def centroid_deg(self) -> tuple[float, float]:
        """Return the area-weighted centroid ``(lat_deg, lon_deg)`` in the lat/lon plane.

        Holes subtract. This is the planar centroid of the shape as drawn on an
        equirectangular map; for zones a few hundred km across it lies within a few km of
        the spherical one. It can fall outside a concave or multi-part shape.
        """
        total = 0.0
        lat_sum = lon_sum = 0.0
        for rings in self.polygons:
            for r, ring in enumerate(rings):
                area, c_lat, c_lon = _ring_centroid(ring)
                sign = 1.0 if r == 0 else -1.0
                total += sign * area
                lat_sum += sign * area * c_lat
                lon_sum += sign * area * c_lon
        if total <= 0.0:  # degenerate (all vertices on a line): mean of the vertices
            allv = np.concatenate(self.rings())
            return float(allv[:, 0].mean()), float(allv[:, 1].mean())
        return lat_sum / total, lon_sum / total

    def area_km2(self) -> float:
        """Return the surface area in km^2 on the mean-radius sphere (holes subtract)."""
        total = 0.0
        for rings in self.polygons:
            for r, ring in enumerate(rings):
                total += (1.0 if r == 0 else -1.0) * _ring_area_km2(ring)
        return total


@dataclass(frozen=True)
class CircleArea:
    """A disc: points within ``radius_km`` (great-circle) of a centre, degrees and km."""

    center_lat_deg: float
    center_lon_deg: float
    radius_km: float

    def __post_init__(self) -> None:
        problems = position_problems("circle centre", self.center_lat_deg, self.center_lon_deg)
        if not (_is_number(self.radius_km) and 0.0 < self.radius_km <= MAX_RADIUS_KM):
            problems.append(
                f"circle radius_km = {self.radius_km!r} must be in (0, {MAX_RADIUS_KM:.0f}] km "
                "(a distance along the surface, e.g. 50 for a city)"
            )
        if problems:
            raise SimflError(problems)

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> BoolArray:
        """Return whether points are within ``radius_km`` of the centre, broadcast shape."""
        lat, lon = _points(lat_deg, lon_deg)
        distance = great_circle_km(self.center_lat_deg, self.center_lon_deg, lat, lon)
        return np.asarray(distance <= self.radius_km * (1.0 + 1e-12))

    def bounds_deg(self) -> tuple[float, float, float, float]:
        """Return ``(lat_min, lat_max, lon_min, lon_max)`` of a box holding the disc."""
        dlat = self.radius_km / KM_PER_DEG
        lat_min = max(-90.0, self.center_lat_deg - dlat)
        lat_max = min(90.0, self.center_lat_deg + dlat)
        widest = math.cos(math.radians(max(abs(lat_min), abs(lat_max))))
        dlon = 180.0 if widest < 1e-6 else min(180.0, dlat / widest)
        return lat_min, lat_max, self.center_lon_deg - dlon, self.center_lon_deg + dlon

    def centroid_deg(self) -> tuple[float, float]:
        """Return the centre ``(lat_deg, lon_deg)``."""
        return float(self.center_lat_deg), float(self.center_lon_deg)

    def area_km2(self) -> float:
        """Return the spherical-cap area in km^2."""
        angle = self.radius_km / MEAN_EARTH_RADIUS_KM
        return 2.0 * math.pi * MEAN_EARTH_RADIUS_KM**2 * (1.0 - math.cos(angle))


@dataclass(frozen=True)
class GridCell:
    """A lat/lon box ``[lat_min, lat_max) x [lon_min, lon_max)`` in degrees.

    South and west edges belong to the cell, north and east edges to the next cell, so a
    point of a grid is in exactly one cell (points on the grid's outer north or east edge
    are in none).
    """

    lat_min_deg: float
    lat_max_deg: float
    lon_min_deg: float
    lon_max_deg: float

    def __post_init__(self) -> None:
        problems = (position_problems("grid cell south-west corner", self.lat_min_deg,
                                       self.lon_min_deg)
                    + position_problems("grid cell north-east corner", self.lat_max_deg,
                                         self.lon_max_deg))
        if not problems and not (self.lat_min_deg < self.lat_max_deg
                                 and self.lon_min_deg < self.lon_max_deg):
            problems.append(
                f"grid cell lat [{self.lat_min_deg}, {self.lat_max_deg}) x lon "
                f"[{self.lon_min_deg}, {self.lon_max_deg}) is empty; need lat_min < lat_max "
                "and lon_min < lon_max (cells may not cross the antimeridian)"
            )
        if problems:
            raise SimflError(problems)

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> BoolArray:
        """Return whether points are in the half-open box, broadcast shape."""
        lat, lon = _points(lat_deg, lon_deg)
        return np.asarray((lat >= self.lat_min_deg) & (lat < self.lat_max_deg)
                          & (lon >= self.lon_min_deg) & (lon < self.lon_max_deg))

    def rings(self) -> list[FloatArray]:
        """Return the boundary as one ring of the 4 corners (lat, lon), counter-clockwise."""
        s, n, w, e = self.lat_min_deg, self.lat_max_deg, self.lon_min_deg, self.lon_max_deg
        return [np.array([[s, w], [s, e], [n, e], [n, w]], dtype=np.float64)]

    def bounds_deg(self) -> tuple[float, float, float, float]:
        """Return ``(lat_min, lat_max, lon_min, lon_max)`` in degrees."""
        return self.lat_min_deg, self.lat_max_deg, self.lon_min_deg, self.lon_max_deg

    def centroid_deg(self) -> tuple[float, float]:
        """Return the middle of the box ``(lat_deg, lon_deg)``."""
        return (0.5 * (self.lat_min_deg + self.lat_max_deg),
                0.5 * (self.lon_min_deg + self.lon_max_deg))

    def area_km2(self) -> float:
        """Return the exact area on the sphere: R^2 dlon (sin lat_max - sin lat_min)."""
        return _ring_area_km2(self.rings()[0])


Area = PolygonArea | CircleArea | GridCell
AREA_KINDS = ("polygon", "circle", "grid cell")


def odd_crossings(lat: FloatArray, lon: FloatArray, ring: FloatArray) -> BoolArray:
    """Return ``(n,)`` bools: does a ray from each point towards +lon cross the ring oddly?

    Edges are straight in the lon/lat plane; points are flat ``(n,)`` arrays in degrees.
    """
    y1, x1 = ring[:, 0], ring[:, 1]
    y2, x2 = np.roll(y1, -1), np.roll(x1, -1)
    odd = np.zeros(lat.shape, dtype=bool)
    step = max(1, MAX_PAIRS // len(ring))
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, lat.size, step):
            py = lat[start : start + step, None]
            px = lon[start : start + step, None]
            straddles = (y1 > py) != (y2 > py)
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            odd[start : start + step] = (np.count_nonzero(straddles & (px < x_cross), axis=1)
                                         % 2).astype(bool)
    return odd


def _ring_centroid(ring: FloatArray) -> tuple[float, float, float]:
    """Return ``(|area| deg^2, lat, lon)`` of a ring by the shoelace formula."""
    y, x = ring[:, 0], ring[:, 1]
    yn, xn = np.roll(y, -1), np.roll(x, -1)
    cross = x * yn - xn * y
    signed = 0.5 * float(cross.sum())
    if abs(signed) < 1e-15:
        return 0.0, float(y.mean()), float(x.mean())
    c_lon = float(((x + xn) * cross).sum()) / (6.0 * signed)
    c_lat = float(((y + yn) * cross).sum()) / (6.0 * signed)
    return abs(signed), c_lat, c_lon


def _ring_area_km2(ring: FloatArray) -> float:
    """Return the area enclosed by a ring on the sphere, edges straight in (lon, sin lat)."""
    lat, lon = np.radians(ring[:, 0]), np.radians(ring[:, 1])
    s = np.sin(lat)
    signed = 0.5 * float(np.sum((np.roll(lon, -1) - lon) * (s + np.roll(s, -1))))
    return abs(signed) * MEAN_EARTH_RADIUS_KM**2


def _clean_ring(ring: ArrayLike, where: str) -> tuple[FloatArray, str | None]:
    try:
        arr = np.array(ring, dtype=np.float64)
    except (TypeError, ValueError):
        return np.zeros((0, 2)), f"{where}: vertices are not numbers; give (lat, lon) pairs"
    if arr.ndim != 2 or arr.shape[1] != 2:
        return np.zeros((0, 2)), (
            f"{where}: vertices have shape {arr.shape}; give an (n, 2) list of (lat, lon) pairs"
        )
    if len(arr) > 1 and np.array_equal(arr[0], arr[-1]):
        arr = arr[:-1]
    if not np.isfinite(arr).all():
        return arr, f"{where}: a vertex is not finite (NaN or inf)"
    bad_lat = np.flatnonzero(np.abs(arr[:, 0]) > 90.0)
    if bad_lat.size:
        i = int(bad_lat[0])
        return arr, (
            f"{where}: vertex {i} has latitude {arr[i, 0]} outside [-90, 90] (vertices are "
            "(lat, lon); GeoJSON and WKT files list (lon, lat) - was the order swapped?)"
        )
    bad_lon = np.flatnonzero(np.abs(arr[:, 1]) > 180.0)
    if bad_lon.size:
        i = int(bad_lon[0])
        return arr, f"{where}: vertex {i} has longitude {arr[i, 1]} outside [-180, 180]"
    if len(np.unique(arr, axis=0)) < 3:
        return arr, f"{where}: {len(arr)} vertices with fewer than 3 distinct; a ring needs 3+"
    arr.setflags(write=False)
    return arr, None


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def position_problems(where: str, lat_deg: object, lon_deg: object) -> list[str]:
    """Return one message per problem of a ``(lat_deg, lon_deg)`` position (none if valid)."""
    if not (_is_number(lat_deg) and _is_number(lon_deg)):
        return [f"{where}: ({lat_deg!r}, {lon_deg!r}) must be finite numbers (lat, lon) deg"]
    assert isinstance(lat_deg, int | float) and isinstance(lon_deg, int | float)
    problems = []
    if not -90.0 <= lat_deg <= 90.0:
        problems.append(f"{where}: latitude {lat_deg} is outside [-90, 90] deg (lat, lon swapped?)")
    if not -180.0 <= lon_deg <= 180.0:
        problems.append(f"{where}: longitude {lon_deg} is outside [-180, 180] deg")
    return problems


def polygon_from_lonlat(parts: Sequence[Sequence[ArrayLike]]) -> PolygonArea:
    """Return a :class:`PolygonArea` from file-order rings of ``(lon, lat)`` positions.

    ``parts`` is a list of polygons, each a list of rings (outer first), each an ``(n, 2)``
    or ``(n, 3)`` array of ``(lon, lat[, altitude])`` as GeoJSON and WKT write them.
    """
    polygons = []
    for rings in parts:
        converted = []
        for ring in rings:
            arr = np.asarray(ring, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] not in (2, 3):
                raise SimflError(
                    f"a ring has positions of shape {arr.shape[1:]}; each position must be "
                    "[lon, lat] or [lon, lat, altitude]"
                )
            converted.append(arr[:, 1::-1])
        polygons.append(tuple(converted))
    return PolygonArea(tuple(polygons))
