"""Zones: named areas on the ground with a position, and questions about a set of them.

A zone's position is its area's centroid (see :meth:`PolygonArea.centroid_deg`); distances
between zones are great-circle distances between positions. Neighbours are zones whose areas
touch (see :mod:`simfl.geo.adjacency` for the exact rule).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simfl.errors import SimflError
from simfl.geo.adjacency import DEFAULT_TOLERANCE_KM, adjacency_matrix
from simfl.geo.areas import Area, CircleArea, GridCell, PolygonArea
from simfl.orbits.regions import great_circle_km

OUTSIDE = -1  # zone index of a point that is in no zone


@dataclass(frozen=True, eq=False)
class Zone:
    """A named area on the ground.

    Attributes
    ----------
    name
        Unique, non-empty name (an edge server's group in a scenario).
    area
        A :class:`PolygonArea`, :class:`CircleArea` or :class:`GridCell`.
    """

    name: str
    area: Area

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SimflError(f"zone name {self.name!r} is empty; give every zone a name")
        if not isinstance(self.area, PolygonArea | CircleArea | GridCell):
            raise SimflError(
                f"zone {self.name!r}: area {type(self.area).__name__} is not a PolygonArea, "
                "CircleArea or GridCell"
            )

    @property
    def lat_deg(self) -> float:
        """Latitude of the zone's position (its area's centroid), degrees."""
        return self.area.centroid_deg()[0]

    @property
    def lon_deg(self) -> float:
        """Longitude of the zone's position (its area's centroid), degrees."""
        return self.area.centroid_deg()[1]

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
        """Return whether points are in the zone's area, broadcast shape of the inputs."""
        return self.area.contains(lat_deg, lon_deg)


def check_zones(zones: Sequence[Zone]) -> None:
    """Raise :class:`SimflError` unless ``zones`` is non-empty with unique names."""
    if not zones:
        raise SimflError("no zones given; define at least one zone")
    counts = Counter(z.name for z in zones)
    duplicates = sorted(name for name, c in counts.items() if c > 1)
    if duplicates:
        raise SimflError(
            f"zone names {duplicates} appear more than once; zone names must be unique"
        )


def zone_index(zones: Sequence[Zone], lat_deg: ArrayLike,
               lon_deg: ArrayLike) -> NDArray[np.int64]:
    """Return per point the index of the first zone that contains it, or ``OUTSIDE`` (-1).

    Broadcast shape of ``lat_deg`` and ``lon_deg``. Where zones overlap, the earlier zone in
    ``zones`` wins.
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64),
                                   np.asarray(lon_deg, dtype=np.float64))
    index = np.full(lat.shape, OUTSIDE, dtype=np.int64)
    for i, zone in enumerate(zones):
        free = index == OUTSIDE
        if not free.any():
            break
        hit = np.zeros(lat.shape, dtype=bool)
        hit[free] = zone.contains(lat[free], lon[free])
        index[hit] = i
    return index


def positions_deg(zones: Sequence[Zone]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(lat_deg, lon_deg)`` arrays ``(n,)`` of the zones' positions."""
    centroids = np.array([z.area.centroid_deg() for z in zones], dtype=np.float64)
    centroids = centroids.reshape(-1, 2)
    return centroids[:, 0], centroids[:, 1]


def distance_matrix_km(zones: Sequence[Zone]) -> NDArray[np.float64]:
    """Return ``(n, n)`` great-circle distances between the zones' positions, km."""
    lat, lon = positions_deg(zones)
    return great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def neighbour_matrix(zones: Sequence[Zone],
                     tolerance_km: float = DEFAULT_TOLERANCE_KM) -> NDArray[np.bool_]:
    """Return the symmetric ``(n, n)`` matrix of zones whose areas touch (False diagonal)."""
    return adjacency_matrix([z.area for z in zones], tolerance_km)


def neighbours(zones: Sequence[Zone],
               tolerance_km: float = DEFAULT_TOLERANCE_KM) -> dict[str, tuple[str, ...]]:
    """Return ``{zone name: names of the zones whose areas touch it}``, in ``zones`` order."""
    check_zones(zones)
    adjacent = neighbour_matrix(zones, tolerance_km)
    return {z.name: tuple(zones[int(j)].name for j in np.flatnonzero(adjacent[i]))
            for i, z in enumerate(zones)}
