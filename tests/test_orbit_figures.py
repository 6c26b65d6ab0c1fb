"""Orbit figures: ground tracks on the map, contact Gantt, elevation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import colormaps
from matplotlib.collections import LineCollection, PolyCollection

from simfl.analysis import (
    column_label,
    plot_contact_gantt,
    plot_elevation,
    plot_ground_tracks,
    sites_frame,
)
from simfl.errors import SimflError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class _Site:
    name: str
    lat_deg: float
    lon_deg: float


def _tracks(n_satellites: int = 2) -> pd.DataFrame:
    t_s = np.arange(0.0, 600.0, 60.0)
    frames = []
    for k in range(n_satellites):
        lon = (170.0 + 2.0 * np.arange(t_s.size) + 0.2 * k + 180.0) % 360.0 - 180.0
        frames.append(pd.DataFrame({"satellite": f"sat-{k}", "t_s": t_s,
                                    "lat_deg": np.linspace(-20.0, 20.0, t_s.size),
                                    "lon_deg": lon}))
    return pd.concat(frames, ignore_index=True)


def _contacts() -> pd.DataFrame:
    rows = [("sat-1", "Svalbard", 0.0, 300.0, 20.0), ("sat-2", "Svalbard", 900.0, 1300.0, 90.0),
            ("sat-1", "Boulder", 5000.0, 5400.0, 45.0), ("sat-10", "Awarua", 9000.0, 9300.0, 0.0)]
    frame = pd.DataFrame(rows, columns=["satellite", "site", "rise_s", "set_s",
                                        "max_elevation_deg"])
    return frame.assign(norad_id=1, culminate_s=frame["rise_s"] + 100.0, clipped=False)


def _elevation(sites: list[str]) -> pd.DataFrame:
    t_s = np.arange(0.0, 900.0, 10.0)
    return pd.concat([
        pd.DataFrame({"satellite": sat, "site": site, "t_s": t_s,
                      "elevation_deg": 60.0 * np.sin(np.pi * t_s / 900.0)})
        for sat in ("sat-1", "sat-2") for site in sites
    ], ignore_index=True)


def test_ground_tracks_draw_one_line_per_satellite_with_legend(tmp_path: Path) -> None:
    path = tmp_path / "tracks.png"
    fig = plot_ground_tracks(_tracks(2), path=path)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["sat-0", "sat-1"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["sat-0", "sat-1"]
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_ground_track_crossing_180_is_drawn_in_separate_segments() -> None:
    fig = plot_ground_tracks(_tracks(1))
    lon = np.asarray(fig.axes[0].get_lines()[0].get_xdata(), dtype=float)
    assert np.isnan(lon).sum() == 1  # one crossing, two segments
    for segment in np.split(lon, np.flatnonzero(np.isnan(lon))):
        finite = segment[np.isfinite(segment)]
        assert np.all(np.abs(np.diff(finite)) <= 180.0)


def test_many_satellites_share_one_line_collection() -> None:
    fig = plot_ground_tracks(_tracks(20))
    ax = fig.axes[0]
    (tracks,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(tracks.get_segments()) == 40  # 20 satellites x 2 segments
    assert not fig.legends
    assert "20 satellite(s)" in ax.get_title()


def test_sites_are_marked_and_named_and_regions_circled() -> None:
    sites = pd.DataFrame({"name": ["Svalbard", "Fiji"], "lat_deg": [78.2, -17.7],
                          "lon_deg": [15.4, 178.0], "radius_km": [np.nan, 1500.0]})
    fig = plot_ground_tracks(_tracks(1), sites)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["Fiji", "Svalbard"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1  # only the region gets a circle
    markers = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert np.asarray(markers[0].get_xdata()).size == 2


def test_sites_may_be_objects_or_dicts() -> None:
    frame = sites_frame([_Site("A", 1.0, 2.0), {"name": "B", "lat_deg": 3.0, "lon_deg": 4.0,
                                                "radius_km": 500.0}])
    assert list(frame["name"]) == ["A", "B"]
    assert np.isnan(frame["radius_km"].iloc[0]) and frame["radius_km"].iloc[1] == 500.0


def test_site_without_coordinates_is_rejected() -> None:
    with pytest.raises(SimflError, match=r"lacks \['lon_deg'\]"):
        sites_frame([{"name": "A", "lat_deg": 1.0}])


def test_contact_gantt_has_one_bar_collection_per_site_and_a_colorbar() -> None:
    fig = plot_contact_gantt(_contacts())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Awarua", "Boulder", "Svalbard"]
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 3
    assert len(fig.axes) == 2  # the colorbar
    assert fig.axes[1].get_ylabel() == "max elevation [deg]"


def test_contact_gantt_colours_bars_by_max_elevation() -> None:
    fig = plot_contact_gantt(_contacts(), sites=["Svalbard"])
    faces = np.concatenate([c.get_facecolor() for c in fig.axes[0].collections])
    viridis = colormaps["viridis"]
    assert np.allclose(faces[:, :3], [viridis(20.0 / 90.0)[:3], viridis(1.0)[:3]])


def test_contact_gantt_with_one_site_has_a_row_per_satellite() -> None:
    fig = plot_contact_gantt(_contacts(), sites=["Svalbard"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sat-1", "sat-2"]
    assert ax.get_ylabel() == "satellite"
    assert "Contacts with Svalbard" in ax.get_title()


def test_contact_gantt_keeps_requested_sites_without_windows() -> None:
    fig = plot_contact_gantt(_contacts(), sites=["Svalbard", "Nowhere"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Svalbard", "Nowhere"]
    assert len(ax.collections) == 1


def test_contact_gantt_time_axis_in_hours() -> None:
    fig = plot_contact_gantt(_contacts())
    assert fig.axes[0].get_xlabel() == "simulated time [h]"
    assert fig.axes[0].get_xlim() == pytest.approx((0.0, 9300.0 / 3600.0))


def test_contact_gantt_without_colouring_has_no_colorbar() -> None:
    fig = plot_contact_gantt(_contacts(), color_by=None)
    assert len(fig.axes) == 1


def test_contact_gantt_rejects_a_text_colour_column() -> None:
    with pytest.raises(SimflError, match="color_by='site' is not a numeric column"):
        plot_contact_gantt(_contacts(), color_by="site")


def test_contact_gantt_truncates_rows_with_a_note() -> None:
    fig = plot_contact_gantt(_contacts(), max_rows=2)
    assert "2 of 3 rows shown" in fig.axes[0].get_title()


def test_elevation_draws_one_line_per_pair_and_the_mask(tmp_path: Path) -> None:
    path = tmp_path / "elevation.png"
    fig = plot_elevation(_elevation(["Svalbard", "Boulder"]), mask_deg=10.0, path=path)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["mask 10 deg", "sat-1 @ Boulder", "sat-2 @ Boulder",
                      "sat-1 @ Svalbard", "sat-2 @ Svalbard"]
    assert ax.get_ylim() == (0.0, 90.0)
    assert ax.get_xlabel() == "simulated time [min]"
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_elevation_at_one_site_labels_by_satellite() -> None:
    fig = plot_elevation(_elevation(["Svalbard"]))
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["sat-1", "sat-2"]
    assert fig.axes[0].get_title() == "Elevation at Svalbard"


@pytest.mark.parametrize(("name", "label"),
                         [("max_elevation_deg", "max elevation [deg]"), ("range_km", "range [km]"),
                          ("snr", "snr")])
def test_column_label_turns_unit_suffixes_into_units(name: str, label: str) -> None:
    assert column_label(name) == label
