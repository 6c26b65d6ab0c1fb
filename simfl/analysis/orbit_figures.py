"""Figures of orbital schedules: ground tracks on a world map, contact Gantt, elevation.

Inputs are frames other parts of simfl compute: ground tracks (``satellite``, ``t_s``,
``lat_deg``, ``lon_deg``), a contact plan (``satellite``, ``site``, ``rise_s``, ``set_s``,
``max_elevation_deg``, ...), elevation series (``satellite``, ``site``, ``t_s``,
``elevation_deg``) and sites (a frame or a list of objects/dicts with ``name``,
``lat_deg``, ``lon_deg`` and, for regions, ``radius_km``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simfl.analysis.canvas import PathLike, draw_lines, finish_figure, new_figure
from simfl.analysis.frames import require_columns
from simfl.analysis.nodes import node_sort_key
from simfl.analysis.tables import human_duration
from simfl.analysis.timeaxis import choose_time_unit
from simfl.analysis.worldmap import draw_world, join_segments, small_circle, split_antimeridian
from simfl.errors import SimflError

MAX_TRACK_LEGEND = 12  # more satellites than this: one LineCollection, no legend
MAX_GANTT_ROWS = 60
_UNITS = {"deg": "deg", "s": "s", "km": "km", "m": "m", "bps": "bit/s", "bytes": "B"}
_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]


def plot_ground_tracks(
    tracks: pd.DataFrame,
    sites: pd.DataFrame | Iterable[Any] | None = None,
    *,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return a world map with each satellite's ground track and the sites.

    Tracks are broken at the antimeridian (no line across the map). Sites are triangles
    with their names; a site with ``radius_km > 0`` (a region) is also drawn as the circle
    of that radius on a spherical Earth.
    """
    require_columns(tracks, ("satellite", "t_s", "lat_deg", "lon_deg"), "ground tracks")
    site_frame = sites_frame(sites)
    fig = new_figure(10.0, 5.8)
    ax = fig.add_subplot()
    draw_world(ax)
    names = sorted({str(s) for s in tracks["satellite"]}, key=node_sort_key)
    by_sat = {str(k): g for k, g in tracks.groupby(tracks["satellite"].astype(str))}
    colors = _colors(len(names))
    segments: list[np.ndarray] = []
    segment_colors: list[Any] = []
    handles: list[Line2D] = []
    for name, color in zip(names, colors, strict=True):
        group = by_sat[name].sort_values("t_s", kind="stable")
        pieces = split_antimeridian(group["lon_deg"].to_numpy(), group["lat_deg"].to_numpy())
        if len(names) <= MAX_TRACK_LEGEND:
            lon, lat = join_segments(pieces)
            handles.extend(ax.plot(lon, lat, color=color, linewidth=1.2, label=name, zorder=3))
        else:
            segments.extend(np.column_stack(piece) for piece in pieces)
            segment_colors.extend([color] * len(pieces))
    if segments:
        ax.add_collection(LineCollection(segments, colors=segment_colors, linewidths=0.6,
                                         alpha=0.8, zorder=3))
    _draw_sites(ax, site_frame)
    span_s = float(tracks["t_s"].max() - tracks["t_s"].min()) if len(tracks) else 0.0
    ax.set_title(title or f"Ground tracks of {len(names)} satellite(s) over "
                 f"{human_duration(span_s)}")
    if handles:
        fig.legend(handles=handles, loc="outside lower center",
                   ncols=min(len(names), 6), fontsize="small", frameon=False)
    return finish_figure(fig, path)


def plot_contact_gantt(
    contacts: pd.DataFrame,
    *,
    sites: Sequence[str] | pd.DataFrame | Iterable[Any] | None = None,
    path: PathLike | None = None,
    color_by: str | None = "max_elevation_deg",
    max_rows: int = MAX_GANTT_ROWS,
    title: str | None = None,
) -> Figure:
    """Return a Gantt chart of contact windows, one ``broken_barh`` per row, with a colorbar.

    One row per site, or one per satellite when the plan has a single site. Each bar spans
    rise to set and is coloured by ``color_by`` (max elevation by default, on a fixed
    0-90 deg scale so that figures compare; ``None``: one colour, no colorbar).

    Parameters
    ----------
    sites
        Sites to show, in this order (names, or a sites frame/list); sites without windows
        get empty rows. Default: every site of the plan, in natural order.
    max_rows
        Show at most this many rows; the title says how many were left out.
    """
    require_columns(contacts, ("satellite", "site", "rise_s", "set_s"), "contact plan")
    if color_by is not None:
        require_columns(contacts, (color_by,), "contact plan")
        if not pd.api.types.is_numeric_dtype(contacts[color_by]):
            raise SimflError(
                f"color_by={color_by!r} is not a numeric column of the contact plan; use "
                "'max_elevation_deg', another numeric column, or None"
            )
    site_names = _site_names(sites) or sorted({str(s) for s in contacts["site"]},
                                              key=node_sort_key)
    plan = contacts.loc[contacts["site"].astype(str).isin(site_names)]
    per_satellite = len(site_names) == 1
    row_col = "satellite" if per_satellite else "site"
    rows = (sorted({str(s) for s in plan["satellite"]}, key=node_sort_key)
            if per_satellite else site_names)
    all_rows = len(rows)
    rows = rows[:max_rows]

    t0 = float(plan["rise_s"].min()) if len(plan) else 0.0
    t1 = float(plan["set_s"].max()) if len(plan) else 1.0
    unit = choose_time_unit(t1 - t0)
    cmap = colormaps["viridis"]
    norm = _norm(plan[color_by]) if color_by is not None else None
    fig = new_figure(10.0, min(1.8 + 0.3 * max(len(rows), 1), 16.0))
    ax = fig.add_subplot()
    by_row = {str(k): g for k, g in plan.groupby(plan[row_col].astype(str))}
    for i, row in enumerate(rows):
        windows = by_row.get(row)
        if windows is None or windows.empty:
            continue
        rise = windows["rise_s"].to_numpy(dtype=np.float64) / unit.seconds
        width = windows["set_s"].to_numpy(dtype=np.float64) / unit.seconds - rise
        faces = (cmap(norm(windows[color_by].to_numpy(dtype=np.float64)))
                 if norm is not None and color_by is not None else "#4e79a7")
        ax.broken_barh(list(zip(rise.tolist(), width.tolist(), strict=True)), (i - 0.4, 0.8),
                       facecolors=faces, edgecolors="0.25", linewidth=0.3, alpha=0.9)
    if norm is not None and color_by is not None:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=column_label(color_by),
                     pad=0.01)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), rows, fontsize=8 if len(rows) > 20 else 9)
    ax.set_ylabel("satellite" if per_satellite else "site")
    ax.set_xlim(t0 / unit.seconds, t1 / unit.seconds)
    ax.set_xlabel(unit.axis_label())
    ax.grid(True, axis="x", alpha=0.3)
    shown = f" ({len(rows)} of {all_rows} rows shown)" if len(rows) < all_rows else ""
    what = f"Contacts with {site_names[0]}" if per_satellite else "Contact windows per site"
    ax.set_title(title or f"{what}: {len(plan)} windows{shown}")
    return finish_figure(fig, path)


def plot_elevation(
    series: pd.DataFrame,
    *,
    mask_deg: float | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Return a figure of elevation (deg, 0-90 shown) against time, one line per
    satellite-site pair, with the elevation mask as a dashed line over a grey band."""
    require_columns(series, ("satellite", "site", "t_s", "elevation_deg"), "elevation series")
    t_s = series["t_s"].to_numpy(dtype=np.float64)
    unit = choose_time_unit(float(t_s.max() - t_s.min()) if t_s.size else 0.0)
    one_site = series["site"].nunique() <= 1
    lines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    keys = series[["satellite", "site"]].astype(str).drop_duplicates().itertuples(index=False)
    ordered = sorted(keys, key=lambda k: (node_sort_key(k[1]), node_sort_key(k[0])))
    groups = {(str(a), str(b)): g for (a, b), g in series.groupby(
        [series["satellite"].astype(str), series["site"].astype(str)])}
    for sat, site in ordered:
        group = groups[(sat, site)].sort_values("t_s", kind="stable")
        label = sat if one_site else f"{sat} @ {site}"
        lines[label] = (group["t_s"].to_numpy(dtype=np.float64) / unit.seconds,
                        group["elevation_deg"].to_numpy(dtype=np.float64))
    fig = new_figure(8.0, 4.4)
    ax = fig.add_subplot()
    if mask_deg is not None:
        ax.axhspan(0.0, mask_deg, color="0.9", zorder=0)
        ax.axhline(mask_deg, color="#e15759", linestyle="--", linewidth=1.0,
                   label=f"mask {mask_deg:g} deg")
    draw_lines(ax, lines)
    ax.set_ylim(0.0, 90.0)
    ax.set_yticks(np.arange(0.0, 90.1, 15.0))
    ax.set_xlabel(unit.axis_label())
    ax.set_ylabel("elevation [deg]")
    site_note = f" at {series['site'].iloc[0]}" if one_site and len(series) else ""
    ax.set_title(title or f"Elevation{site_note}")
    return finish_figure(fig, path)


def sites_frame(sites: pd.DataFrame | Iterable[Any] | None) -> pd.DataFrame:
    """Return sites as a frame ``name``, ``lat_deg``, ``lon_deg``, ``radius_km`` (NaN: none).

    Accepts a frame, or an iterable of mappings or objects with those fields (e.g.
    :class:`simfl.orbits.sites.GroundSite`), or with ``center_lat_deg``/``center_lon_deg``
    (e.g. :class:`simfl.orbits.regions.GroundRegion`).
    """
    columns = ["name", "lat_deg", "lon_deg", "radius_km"]
    if sites is None:
        return pd.DataFrame(columns=columns)
    if isinstance(sites, pd.DataFrame):
        require_columns(sites, ("name", "lat_deg", "lon_deg"), "sites")
        frame = sites.copy()
    else:
        records = [_site_record(s) for s in sites]
        frame = pd.DataFrame(records, columns=columns)
    if "radius_km" not in frame.columns:
        frame["radius_km"] = np.nan
    frame = frame[columns].astype({"lat_deg": "float64", "lon_deg": "float64",
                                   "radius_km": "float64"})
    return frame.astype({"name": str})


def column_label(name: str) -> str:
    """Return an axis label for a column name with a unit suffix:
    ``"max_elevation_deg"`` -> ``"max elevation [deg]"``."""
    stem, _, suffix = name.rpartition("_")
    if stem and suffix in _UNITS:
        return f"{stem.replace('_', ' ')} [{_UNITS[suffix]}]"
    return name.replace("_", " ")


def _site_record(site: Any) -> dict[str, Any]:
    get = site.get if isinstance(site, Mapping) else lambda k, d=None: getattr(site, k, d)
    record = {k: get(k, get(f"center_{k}")) for k in ("name", "lat_deg", "lon_deg")}
    missing = [k for k, v in record.items() if v is None]
    if missing:
        raise SimflError(
            f"site {site!r} lacks {missing}; each site needs name, lat_deg, lon_deg "
            "(and radius_km for a region)"
        )
    radius = get("radius_km")
    record["radius_km"] = np.nan if radius is None else float(radius)
    return record


def _site_names(sites: Sequence[str] | pd.DataFrame | Iterable[Any] | None) -> list[str]:
    if sites is None:
        return []
    if isinstance(sites, str):
        return [sites]
    if isinstance(sites, pd.DataFrame):
        return [str(n) for n in sites_frame(sites)["name"]]
    items = list(sites)
    if all(isinstance(s, str) for s in items):
        return [str(s) for s in items]
    return [str(n) for n in sites_frame(items)["name"]]


def _draw_sites(ax: Axes, sites: pd.DataFrame) -> None:
    lat_deg = sites["lat_deg"].to_numpy(dtype=np.float64)
    lon_deg = sites["lon_deg"].to_numpy(dtype=np.float64)
    radius_km = sites["radius_km"].to_numpy(dtype=np.float64)
    for lat, lon, radius in zip(lat_deg, lon_deg, radius_km, strict=True):
        if np.isfinite(radius) and radius > 0:
            ring_lon, ring_lat = join_segments(split_antimeridian(
                *small_circle(float(lat), float(lon), float(radius))))
            ax.plot(ring_lon, ring_lat, color="#b07aa1", linewidth=1.2, linestyle="--",
                    zorder=4)
    if len(sites):
        ax.plot(lon_deg, lat_deg, marker="^", color="black", markersize=6, linestyle="none",
                zorder=5, label="_sites")
    for name, lat, lon in zip(sites["name"], lat_deg, lon_deg, strict=True):
        east = lon > 120.0  # label to the left of the marker so it stays inside the map
        ax.annotate(str(name), (float(lon), float(lat)), xytext=(-4 if east else 4, 4),
                    textcoords="offset points", ha="right" if east else "left", fontsize=8,
                    zorder=6, path_effects=_HALO, annotation_clip=True)


def _colors(n: int) -> list[Any]:
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    return [tuple(c) for c in colormaps["turbo"](np.linspace(0.05, 0.95, n))]


def _norm(values: pd.Series) -> Normalize:
    if values.name == "max_elevation_deg":
        return Normalize(vmin=0.0, vmax=90.0)
    finite = values.to_numpy(dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return Normalize(vmin=0.0, vmax=1.0)
    low, high = float(finite.min()), float(finite.max())
    return Normalize(vmin=low, vmax=high if high > low else low + 1.0)
