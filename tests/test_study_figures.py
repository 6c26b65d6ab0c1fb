"""Tests of the study figures: accuracy surface and bytes by link."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simfl.analysis.study_figures import plot_bytes_by_link, plot_metric_vs_cost, plot_surface
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


def _run_metrics(points: list[tuple[float, float, float]]) -> pd.DataFrame:
    rows = []
    for k, (t_s, moved, acc) in enumerate(points):
        rows += [(t_s, k, "global", "accuracy", acc), (t_s, k, "network", "bytes_moved", moved)]
    return pd.DataFrame(rows, columns=["t_s", "round", "node", "metric", "value"])


def test_metric_vs_cost_draws_curves_and_points_on_two_axes(tmp_path: Path) -> None:
    frames = {"fedavg": _run_metrics([(0, 0, 0.1), (10, 100, 0.5), (20, 200, 0.6),
                                      (30, 300, 0.7), (40, 400, 0.8), (50, 500, 0.85)]),
              "oneshot": _run_metrics([(60, 250, 0.6)]),
              "silent": pd.DataFrame({"t_s": [1.0], "round": [1], "node": ["global"],
                                      "metric": ["accuracy"], "value": [0.3]})}
    fig = plot_metric_vs_cost(frames, path=tmp_path / "c.png")
    by_bytes, by_time = fig.axes[0], fig.axes[1]
    assert by_bytes.get_xscale() == "log"
    assert len(by_bytes.lines) == 2 == len(by_time.lines)  # the silent run is left out
    curve = by_bytes.lines[0]
    assert list(curve.get_xdata()) == [100, 200, 300, 400, 500]  # 0 bytes is off a log axis
    assert curve.get_linestyle() == "-" and by_bytes.lines[1].get_linestyle() == ":"
    assert list(by_time.lines[0].get_xdata()) == [0, 10, 20, 30, 40, 50]
    assert sorted(t.get_text() for t in by_bytes.texts) == ["fedavg", "oneshot"]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SimflError, match="no run recorded bytes_moved"):
        plot_metric_vs_cost({"silent": frames["silent"]})


def test_metric_vs_cost_says_which_model_a_method_without_a_global_one_shows() -> None:
    local = _run_metrics([(0, 10, 0.2), (10, 20, 0.9)]).replace({"node": {"global":
                                                                          "personalized"}})
    fig = plot_metric_vs_cost({"fedavg": _run_metrics([(0, 0, 0.1), (10, 100, 0.5)]),
                               "local": local})
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["fedavg", "local (personalized)"]
