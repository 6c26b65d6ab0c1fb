"""Zone maps: zone areas on the land map, coloured by cluster, with names and neighbour edges.

Used to show how SGFusion's hierarchy (or any clustering) groups zones: zones with the same
cluster id share a colour; edges join neighbouring (or sampled) zone pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import ColorType

from simfl.analysis.canvas import MAX_LEGEND_ENTRIES, PathLike, finish_figure, new_figure
from simfl.analysis.worldmap import draw_world, small_circle
from simfl.errors import SimflError
from simfl.geo.areas import CircleArea, GridCell, PolygonArea
from simfl.geo.zones import Zone, positions_deg

NO_CLUSTER_COLOR = "#9a9a9a"
EDGE_COLOR = "#333333"
MAX_LABELS = 80  # more zones than this are drawn without names


def plot_zone_map(
    zones: Sequence[Zone],
    cluster_of: Mapping[str, int] | None = None,
    *,
    edges: Mapping[str, Sequence[str]] | None = None,
    labels: bool = True,
    title: str | None = None,
    margin_deg: float = 1.5,
    path: PathLike | None = None,
) -> Figure:
    """Return a map of the zones' areas, zoomed to them, saved to ``path`` when given.

    Parameters
    ----------
    zones
        The zones to draw.
    cluster_of
        ``{zone name: cluster id}``: one colour per cluster, a legend up to 15 clusters;
        zones left out are grey. Default: every zone in one colour.
    edges
        ``{zone name: names of other zones}`` (e.g. :func:`simfl.geo.neighbours`): a line
        joins the positions of each pair, drawn once.
    labels
        Write each zone's name at its position (skipped above 80 zones).
    title
        Figure title.
    margin_deg
        Map margin around the zones, degrees.
    """
    names = {z.name for z in zones}
    unknown = sorted({*(cluster_of or {})} - names)
    unknown += sorted({n for k, v in (edges or {}).items() for n in (k, *v)} - names)
    if unknown:
        raise SimflError(
            f"zone map: {sorted(set(unknown))[:10]} are not zone names; valid names start "
            f"{sorted(names)[:5]}"
        )
    fig = new_figure(8.0, 6.0)
    ax = draw_world(fig.add_subplot())
    colors = _cluster_colors(cluster_of)
    for zone in zones:
        cluster = None if cluster_of is None else cluster_of.get(zone.name)
        color: ColorType = (colors.get(cluster, NO_CLUSTER_COLOR) if cluster_of is not None
                            else "C0")
        ax.add_patch(PathPatch(_area_path(zone), facecolor=color, edgecolor="black",
                               alpha=0.6, linewidth=0.6, zorder=2))
    lat, lon = positions_deg(zones)
    index = {z.name: i for i, z in enumerate(zones)}
    if edges:
        pairs = sorted({tuple(sorted((a, b))) for a, others in edges.items() for b in others
                        if a != b})
        segments = [[(lon[index[a]], lat[index[a]]), (lon[index[b]], lat[index[b]])]
                    for a, b in pairs]
        ax.add_collection(LineCollection(segments, colors=EDGE_COLOR, linewidths=0.8,
                                         zorder=3, label="edges"))
    ax.scatter(lon, lat, s=8, color="black", zorder=4)
    if labels and len(zones) <= MAX_LABELS:
        for zone, la, lo in zip(zones, lat, lon, strict=True):
            ax.annotate(zone.name, (lo, la), xytext=(3, 3), textcoords="offset points",
                        fontsize=6, zorder=5)
    if cluster_of is not None and 0 < len(colors) <= MAX_LEGEND_ENTRIES:
        ax.legend(handles=[Patch(facecolor=c, alpha=0.6, label=f"cluster {k}")
                           for k, c in colors.items()], loc="best", fontsize="small")
    _zoom(ax, zones, margin_deg)
    if title:
        ax.set_title(title)
    return finish_figure(fig, path)


def _cluster_colors(cluster_of: Mapping[str, int] | None) -> dict[int | None, ColorType]:
    clusters = sorted(set((cluster_of or {}).values()))
    if len(clusters) > 20:
        ramp = colormaps["turbo"](np.linspace(0.0, 1.0, len(clusters)))
    else:
        ramp = colormaps["tab10" if len(clusters) <= 10 else "tab20"](np.arange(len(clusters)))
    return {k: (float(r), float(g), float(b), float(a))
            for k, (r, g, b, a) in zip(clusters, ramp, strict=True)}


def _area_path(zone: Zone) -> MplPath:
    """Return the zone's outline as a path in (lon, lat), holes wound against the outside."""
    area = zone.area
    if isinstance(area, CircleArea):
        lon, lat = small_circle(area.center_lat_deg, area.center_lon_deg, area.radius_km)
        return MplPath(np.column_stack([lon, lat]), closed=True)
    assert isinstance(area, PolygonArea | GridCell)
    polygons = area.polygons if isinstance(area, PolygonArea) else (tuple(area.rings()),)
    vertices, codes = [], []
    for rings in polygons:
        for r, ring in enumerate(rings):
            lonlat = ring[:, ::-1]
            if (_signed_area(lonlat) > 0) != (r == 0):
                lonlat = lonlat[::-1]
            vertices += [*lonlat, lonlat[0]]
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(lonlat) - 1) + [MplPath.CLOSEPOLY]
    return MplPath(np.array(vertices), codes)


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _zoom(ax: Axes, zones: Sequence[Zone], margin_deg: float) -> None:
    bounds = np.array([z.area.bounds_deg() for z in zones]).reshape(-1, 4)
    lat0, lat1 = bounds[:, 0].min() - margin_deg, bounds[:, 1].max() + margin_deg
    lon0, lon1 = bounds[:, 2].min() - margin_deg, bounds[:, 3].max() + margin_deg
    ax.set_xlim(max(-180.0, lon0), min(180.0, lon1))
    ax.set_ylim(max(-90.0, lat0), min(90.0, lat1))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
