"""Tests of the study figures: accuracy surface and bytes by link."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simfl.analysis.study_figures import plot_bytes_by_link, plot_surface
from simfl.errors import SimflError


def test_surface_has_one_annotated_cell_per_point(tmp_path: Path) -> None:
    table = pd.DataFrame([{"a": a, "d": d, "acc": a + d / 10} for a in (0, 0.5, 1)
                          for d in (1, 2)])
    fig = plot_surface(table, "a", "d", "acc", best=(0.5, 2), path=tmp_path / "s.png")
    ax = fig.axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(f"{a + d / 10:.3f}" for a in (0, 0.5, 1) for d in (1, 2))
    assert len(ax.patches) == 1  # the marked best cell
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SimflError, match="column 'zz' is missing"):
        plot_surface(table, "a", "d", "zz")


def test_bytes_by_link_draws_only_links_a_run_used() -> None:
    results = pd.DataFrame({"algorithm": ["fedmeld", "space_hfl"],
                            "bytes_moved": [10, 30],
                            "bytes_region_up": [10, 10],
                            "bytes_station_down": [None, 20]})
    fig = plot_bytes_by_link(results, label="algorithm")
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [10, 10, 20]
    assert ax.get_yscale() == "log"
    with pytest.raises(SimflError, match="no bytes_<link> columns"):
        plot_bytes_by_link(results[["algorithm", "bytes_moved"]], label="algorithm")
