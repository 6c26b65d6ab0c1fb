"""Which areas touch: shared edges or vertices, overlaps, or gaps below a tolerance in km.

Two areas touch when they overlap or when the distance between them is at most
``tolerance_km``:

- polygons and grid cells (boundaries straight in the lon/lat plane) touch when a vertex of
  one lies within the tolerance of an edge of the other, when edges cross, or when one lies
  inside the other. Sharing only a corner counts ("queen" contiguity, like shapely's
  ``intersects``, which the SGFusion code uses for its neighbour baseline): the four cells
  around a grid corner are all neighbours of each other;
- two discs touch when the distance between their centres is at most the sum of their radii
  plus the tolerance;
- a disc and a polygon touch when the disc's centre is inside the polygon or within its
  radius plus the tolerance of the polygon's boundary.

Distances near a vertex use a local equirectangular frame (exact for short distances, which
is all a tolerance check needs); the disc-to-polygon distance is the great-circle distance to
the nearest boundary point of that frame. Areas are not joined across the antimeridian.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from simfl.errors import SimflError
from simfl.geo.areas import (
    KM_PER_DEG,
    MAX_PAIRS,
    Area,
    CircleArea,
    FloatArray,
    odd_crossings,
)
from simfl.orbits.regions import great_circle_km

DEFAULT_TOLERANCE_KM = 1.0


def touches(a: Area, b: Area, tolerance_km: float = DEFAULT_TOLERANCE_KM) -> bool:
    """Return whether two areas overlap or come within ``tolerance_km`` of each other."""
    _check_tolerance(tolerance_km)
    if not _boxes_close(a.bounds_deg(), b.bounds_deg(), tolerance_km):
        return False
    if isinstance(a, CircleArea) and isinstance(b, CircleArea):
        gap = great_circle_km(a.center_lat_deg, a.center_lon_deg, b.center_lat_deg,
                              b.center_lon_deg) - a.radius_km - b.radius_km
        return bool(gap <= tolerance_km)
    if isinstance(a, CircleArea) or isinstance(b, CircleArea):
        circle, other = (a, b) if isinstance(a, CircleArea) else (b, a)
        assert isinstance(circle, CircleArea) and not isinstance(other, CircleArea)
        if bool(other.contains(circle.center_lat_deg, circle.center_lon_deg)):
            return True
        edge_km = _point_to_edges_km(circle.center_lat_deg, circle.center_lon_deg,
                                     _edges(other.rings()))
        return edge_km - circle.radius_km <= tolerance_km
    assert not isinstance(a, CircleArea) and not isinstance(b, CircleArea)
    return _polygons_touch(a.rings(), b.rings(), tolerance_km)


def adjacency_matrix(areas: Sequence[Area],
                     tolerance_km: float = DEFAULT_TOLERANCE_KM) -> np.ndarray:
    """Return the symmetric boolean ``(n, n)`` matrix of :func:`touches`, False diagonal."""
    _check_tolerance(tolerance_km)
    n = len(areas)
    adjacent = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            adjacent[i, j] = adjacent[j, i] = touches(areas[i], areas[j], tolerance_km)
    return adjacent


def _check_tolerance(tolerance_km: float) -> None:
    if not (isinstance(tolerance_km, int | float) and math.isfinite(tolerance_km)
            and tolerance_km >= 0):
        raise SimflError(
            f"tolerance_km = {tolerance_km!r} must be a number >= 0 (km of gap still counted "
            "as touching; e.g. 1 for borders digitised at different resolutions)"
        )


def _margin_deg(bounds: tuple[float, float, float, float],
                tolerance_km: float) -> tuple[float, float]:
    dlat = tolerance_km / KM_PER_DEG
    widest = math.cos(math.radians(min(90.0, max(abs(bounds[0]), abs(bounds[1])) + dlat)))
    dlon = 360.0 if widest < 1e-6 else dlat / widest
    return dlat, dlon


def _boxes_close(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
                 tolerance_km: float) -> bool:
    dlat, dlon = _margin_deg(a, tolerance_km)
    return (a[0] - dlat <= b[1] and b[0] <= a[1] + dlat
            and a[2] - dlon <= b[3] and b[2] <= a[3] + dlon)


def _edges(rings: list[FloatArray]) -> FloatArray:
    """Return all ring edges as ``(m, 4)``: lat1, lon1, lat2, lon2 in degrees."""
    return np.concatenate([np.hstack([ring, np.roll(ring, -1, axis=0)]) for ring in rings])


def _nearest_on_edges(lat: FloatArray, lon: FloatArray,
                      edges: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return per point the nearest edge point ``(lat, lon)`` and its distance (km) in the
    point's local equirectangular frame."""
    best = np.full(lat.shape, np.inf)
    best_lat = np.zeros(lat.shape)
    best_lon = np.zeros(lat.shape)
    step = max(1, MAX_PAIRS // max(1, len(edges)))
    for start in range(0, lat.size, step):
        plat = lat[start : start + step, None]
        plon = lon[start : start + step, None]
        scale = np.cos(np.radians(plat))
        ax, ay = (edges[:, 1] - plon) * scale, edges[:, 0] - plat
        dx, dy = (edges[:, 3] - edges[:, 1]) * scale, edges[:, 2] - edges[:, 0]
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        dist = np.hypot(ax + t * dx, ay + t * dy) * KM_PER_DEG
        k = np.argmin(dist, axis=1)
        rows = np.arange(len(k))
        best[start : start + step] = dist[rows, k]
        tk = t[rows, k]
        e = edges[k]
        best_lat[start : start + step] = e[:, 0] + tk * (e[:, 2] - e[:, 0])
        best_lon[start : start + step] = e[:, 1] + tk * (e[:, 3] - e[:, 1])
    return best_lat, best_lon, best


def _point_to_edges_km(lat_deg: float, lon_deg: float, edges: FloatArray) -> float:
    near_lat, near_lon, _ = _nearest_on_edges(np.array([lat_deg]), np.array([lon_deg]), edges)
    return float(great_circle_km(lat_deg, lon_deg, near_lat[0], near_lon[0]))


def _polygons_touch(rings_a: list[FloatArray], rings_b: list[FloatArray],
                    tolerance_km: float) -> bool:
    edges_a, edges_b = _edges(rings_a), _edges(rings_b)
    verts_a, verts_b = np.concatenate(rings_a), np.concatenate(rings_b)
    for verts, edges, box in ((verts_a, edges_b, _bounds(verts_b)),
                              (verts_b, edges_a, _bounds(verts_a))):
        near = _within_box(verts, box, tolerance_km)
        if near.size:
            _, _, dist = _nearest_on_edges(near[:, 0], near[:, 1], edges)
            if (dist <= tolerance_km).any():
                return True
    if _even_odd(verts_a[:1], rings_b) or _even_odd(verts_b[:1], rings_a):
        return True  # one lies inside the other, boundaries apart
    return _edges_cross(edges_a, edges_b)


def _bounds(verts: FloatArray) -> tuple[float, float, float, float]:
    return (float(verts[:, 0].min()), float(verts[:, 0].max()),
            float(verts[:, 1].min()), float(verts[:, 1].max()))


def _within_box(verts: FloatArray, box: tuple[float, float, float, float],
                tolerance_km: float) -> FloatArray:
    dlat, dlon = _margin_deg(box, tolerance_km)
    keep = ((verts[:, 0] >= box[0] - dlat) & (verts[:, 0] <= box[1] + dlat)
            & (verts[:, 1] >= box[2] - dlon) & (verts[:, 1] <= box[3] + dlon))
    return verts[keep]


def _even_odd(point: FloatArray, rings: list[FloatArray]) -> bool:
    inside = False
    for ring in rings:
        inside ^= bool(odd_crossings(point[:, 0], point[:, 1], ring)[0])
    return inside


def _edges_cross(edges_a: FloatArray, edges_b: FloatArray) -> bool:
    """Return whether any edge of ``a`` properly crosses one of ``b`` (lon/lat plane)."""
    step = max(1, MAX_PAIRS // max(1, len(edges_b)))
    bx1, by1, bx2, by2 = edges_b[:, 1], edges_b[:, 0], edges_b[:, 3], edges_b[:, 2]
    for start in range(0, len(edges_a), step):
        e = edges_a[start : start + step]
        ax1, ay1, ax2, ay2 = (e[:, i, None] for i in (1, 0, 3, 2))
        o1 = (ax2 - ax1) * (by1 - ay1) - (ay2 - ay1) * (bx1 - ax1)
        o2 = (ax2 - ax1) * (by2 - ay1) - (ay2 - ay1) * (bx2 - ax1)
        o3 = (bx2 - bx1) * (ay1 - by1) - (by2 - by1) * (ax1 - bx1)
        o4 = (bx2 - bx1) * (ay2 - by1) - (by2 - by1) * (ax2 - bx1)
        if ((o1 * o2 < 0) & (o3 * o4 < 0)).any():
            return True
    return False
