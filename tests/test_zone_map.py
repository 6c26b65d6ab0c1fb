"""Tests of simfl.analysis.zone_map: zones on the land map, by cluster, with edges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import PathPatch

from simfl.analysis.zone_map import plot_zone_map
from simfl.errors import SimflError
from simfl.geo import CircleArea, PolygonArea, Zone, grid_zones, neighbours

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _zones() -> list[Zone]:
    ring = [(44.0, 5.0), (44.0, 7.0), (46.0, 7.0), (46.0, 5.0)]
    hole = [(44.5, 5.5), (44.5, 6.0), (45.0, 6.0), (45.0, 5.5)]
    return [*grid_zones(47.0, 49.0, 5.0, 9.0, cell_deg=1.0),
            Zone("alps", PolygonArea(((np.array(ring), np.array(hole)),))),
            Zone("city", CircleArea(45.0, 9.0, 40.0))]


def _zone_patches(fig: object) -> list[PathPatch]:
    ax = fig.axes[0]  # type: ignore[attr-defined]
    return [p for p in ax.patches if isinstance(p, PathPatch)]


def test_zone_map_writes_a_png(tmp_path: Path) -> None:
    zones = _zones()
    clusters = {z.name: i % 3 for i, z in enumerate(zones)}
    out = tmp_path / "zones.png"
    plot_zone_map(zones, clusters, edges=neighbours(zones), title="zones", path=out)
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_one_patch_per_zone_and_same_cluster_same_colour() -> None:
    zones = _zones()
    clusters = {zones[0].name: 4, zones[1].name: 4, zones[2].name: 7}
    fig = plot_zone_map(zones, clusters)
    patches = _zone_patches(fig)
    assert len(patches) == len(zones)
    colours = [tuple(p.get_facecolor()) for p in patches]
    assert colours[0] == colours[1] != colours[2]
    assert colours[3] == colours[-1]  # both left out: grey
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["cluster 4", "cluster 7"]


def test_edges_are_drawn_once_per_pair() -> None:
    zones = grid_zones(47.0, 48.0, 5.0, 8.0, cell_deg=1.0)
    fig = plot_zone_map(zones, edges=neighbours(zones))
    lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(lines) == 1 and len(lines[0].get_segments()) == 2


def test_map_zooms_to_the_zones() -> None:
    fig = plot_zone_map(grid_zones(47.0, 49.0, 5.0, 9.0, cell_deg=1.0), margin_deg=1.0)
    ax = fig.axes[0]
    assert ax.get_xlim() == (4.0, 10.0) and ax.get_ylim() == (46.0, 50.0)


def test_unknown_zone_names_are_reported() -> None:
    with pytest.raises(SimflError, match=r"\['nowhere'\] are not zone names"):
        plot_zone_map(_zones(), {"nowhere": 1})
