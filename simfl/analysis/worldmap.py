"""A world map without downloads: land outlines on an equirectangular lat/lon axes.

The land polygons are Natural Earth 1:110m (public domain), dissolved and simplified once at
development time and shipped as ``data/land_110m.npz`` (about 18 KB; see ``data/README.md``).
Also here is the map geometry every map figure needs: breaking a longitude series at the
antimeridian and a small circle of given radius around a site.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Polygon

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), the sphere used for small circles
LAND_COLOR = "#e4e1d6"
COAST_COLOR = "#8c8776"
OCEAN_COLOR = "#f3f7fb"
GRID_COLOR = "#c9d3dd"


@cache
def land_rings() -> tuple[tuple[np.ndarray, bool], ...]:
    """Return the land outlines as ``(lonlat_deg, is_hole)`` pairs, ``lonlat_deg`` (n, 2) deg.

    Read once from the shipped ``data/land_110m.npz`` and cached (read-only arrays).
    """
    ref = resources.files("simfl.analysis").joinpath("data", "land_110m.npz")
    with ref.open("rb") as fh, np.load(fh) as data:
        lonlat_deg = data["lonlat_centideg"].astype(np.float64) / 100.0
        offsets = data["ring_offsets"]
        holes = data["ring_is_hole"]
    lonlat_deg.setflags(write=False)
    return tuple(
        (lonlat_deg[offsets[i] : offsets[i + 1]], bool(holes[i])) for i in range(len(holes))
    )


def draw_world(ax: Axes, *, graticule_deg: float = 30.0) -> Axes:
    """Return ``ax`` set up as a world map: land, coastlines, graticule, lon/lat labels.

    The axes span longitude -180..180 deg and latitude -90..90 deg with equal aspect
    (equirectangular, "plate carree"). Land is drawn beneath everything else (low zorder),
    so tracks and markers drawn afterwards stay on top.
    """
    ax.set_facecolor(OCEAN_COLOR)
    for lonlat_deg, is_hole in land_rings():
        ax.add_patch(
            Polygon(
                lonlat_deg,
                closed=True,
                facecolor=OCEAN_COLOR if is_hole else LAND_COLOR,
                edgecolor=COAST_COLOR,
                linewidth=0.5,
                zorder=0.5 if is_hole else 0.4,
            )
        )
    ax.set_xlim(-180.0, 180.0)
    ax.set_ylim(-90.0, 90.0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(-180.0, 180.0 + 1e-9, graticule_deg))
    ax.set_yticks(np.arange(-90.0, 90.0 + 1e-9, graticule_deg))
    ax.xaxis.set_major_formatter(lambda v, _pos: _lon_label(v))
    ax.yaxis.set_major_formatter(lambda v, _pos: _lat_label(v))
    ax.grid(True, color=GRID_COLOR, linewidth=0.5, zorder=0.3)
    ax.set_axisbelow(True)
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    return ax


def split_antimeridian(
    lon_deg: np.ndarray, lat_deg: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return a track as segments ``(lon_deg, lat_deg)`` that never jump across the map.

    A new segment starts wherever consecutive longitudes differ by more than 180 deg (the
    track crossed the antimeridian). Each side gets an extra point on the map edge (+-180 deg)
    at the latitude interpolated at the crossing, so the drawn track reaches the border.
    Longitudes are first wrapped into [-180, 180).
    """
    lon = (np.asarray(lon_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0
    lat = np.asarray(lat_deg, dtype=np.float64)
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError(f"lon_deg {lon.shape} and lat_deg {lat.shape} must be equal 1-D")
    if lon.size == 0:
        return []
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0)
    segments: list[tuple[np.ndarray, np.ndarray]] = []
    start = 0
    entry: tuple[float, float] | None = None
    for j in jumps:
        lon0, lon1, lat0, lat1 = lon[j], lon[j + 1], lat[j], lat[j + 1]
        edge = 180.0 if lon0 > 0 else -180.0
        lon1_unwrapped = lon1 + 2 * edge  # continue past the edge: e.g. 179 -> -179 == 181
        frac = (edge - lon0) / (lon1_unwrapped - lon0) if lon1_unwrapped != lon0 else 0.0
        lat_edge = float(lat0 + frac * (lat1 - lat0))
        seg_lon = lon[start : j + 1]
        seg_lat = lat[start : j + 1]
        if entry is not None:
            seg_lon = np.concatenate(([entry[0]], seg_lon))
            seg_lat = np.concatenate(([entry[1]], seg_lat))
        segments.append((np.append(seg_lon, edge), np.append(seg_lat, lat_edge)))
        entry = (-edge, lat_edge)
        start = int(j) + 1
    seg_lon, seg_lat = lon[start:], lat[start:]
    if entry is not None:
        seg_lon = np.concatenate(([entry[0]], seg_lon))
        seg_lat = np.concatenate(([entry[1]], seg_lat))
    segments.append((seg_lon, seg_lat))
    return segments


def join_segments(segments: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Return segments joined into one ``(lon_deg, lat_deg)`` pair with NaN between them.

    Matplotlib does not draw across NaN, so the result plots as one line with gaps.
    """
    if not segments:
        return np.empty(0), np.empty(0)
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    for k, (lon, lat) in enumerate(segments):
        if k:
            lons.append(np.array([np.nan]))
            lats.append(np.array([np.nan]))
        lons.append(lon)
        lats.append(lat)
    return np.concatenate(lons), np.concatenate(lats)


def small_circle(
    lat_deg: float, lon_deg: float, radius_km: float, n_points: int = 121
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lon_deg, lat_deg)`` arrays (n_points,) of the circle of ``radius_km`` around
    a point, on a spherical Earth (the destination-point formula; error well under 1 % of the
    radius against the ellipsoid, fine for a map).
    """
    if radius_km < 0:
        raise ValueError(f"radius_km must be >= 0, got {radius_km}")
    delta = radius_km / EARTH_RADIUS_KM
    phi1 = np.radians(lat_deg)
    lam1 = np.radians(lon_deg)
    bearing = np.linspace(0.0, 2 * np.pi, n_points)
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(bearing)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(phi1),
        np.cos(delta) - np.sin(phi1) * np.sin(phi2),
    )
    lon_out = (np.degrees(lam2) + 180.0) % 360.0 - 180.0
    return lon_out, np.degrees(phi2)


def _lon_label(lon: float) -> str:
    lon = round(lon)
    if lon in (0, 180, -180):
        return f"{abs(lon)}°"
    return f"{abs(lon)}°{'E' if lon > 0 else 'W'}"


def _lat_label(lat: float) -> str:
    lat = round(lat)
    if lat == 0:
        return "0°"
    return f"{abs(lat)}°{'N' if lat > 0 else 'S'}"
