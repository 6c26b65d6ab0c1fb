"""Learning-curve figures: lines per node/method, time units, saving."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simfl.analysis import (
    choose_time_unit,
    plot_methods_vs_time,
    plot_metric_vs_round,
    plot_metric_vs_time,
    save_figure,
)
from simfl.errors import SimflError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _metrics(nodes: list[str], t_end_s: float = 600.0, n: int = 5) -> pd.DataFrame:
    rows = []
    for k, node in enumerate(nodes):
        for i, t in enumerate(np.linspace(0.0, t_end_s, n)):
            rows.append((float(t), i, node, "accuracy", 0.1 * i + 0.01 * k))
            rows.append((float(t), i, node, "loss", 2.0 - 0.1 * i))
    return pd.DataFrame(rows, columns=["t_s", "round", "node", "metric", "value"])


def _labels(fig) -> list[str]:
    return [line.get_label() for line in fig.axes[0].get_lines()]


def test_metric_vs_time_defaults_to_the_global_node() -> None:
    fig = plot_metric_vs_time(_metrics(["global", "client-1", "client-2"]))
    assert _labels(fig) == ["global"]


def test_metric_vs_time_draws_every_node_without_a_global_one() -> None:
    fig = plot_metric_vs_time(_metrics(["client-10", "client-2", "cloud"]))
    assert _labels(fig) == ["cloud", "client-2", "client-10"]


def test_metric_vs_time_draws_the_requested_nodes() -> None:
    fig = plot_metric_vs_time(_metrics(["global", "client-1", "client-2"]),
                              nodes=["client-2", "client-1"])
    assert _labels(fig) == ["client-1", "client-2"]


def test_metric_vs_time_draws_all_nodes_that_report_the_metric() -> None:
    frame = pd.concat([_metrics(["global", "client-1"]),
                       pd.DataFrame({"t_s": [1.0], "round": [1], "node": ["network"],
                                     "metric": ["bytes_moved"], "value": [10.0]})])
    fig = plot_metric_vs_time(frame, nodes="all")
    assert _labels(fig) == ["global", "client-1"]


def test_metric_vs_time_lines_by_another_column() -> None:
    a = _metrics(["global"]).assign(method="fedavg")
    b = _metrics(["global"]).assign(method="fedprox")
    fig = plot_metric_vs_time(pd.concat([a, b]), label_by="method")
    assert _labels(fig) == ["fedavg", "fedprox"]


def test_metric_vs_time_plots_values_in_time_order() -> None:
    frame = _metrics(["global"]).sample(frac=1.0, random_state=0)
    line = plot_metric_vs_time(frame).axes[0].get_lines()[0]
    x = np.asarray(line.get_xdata())
    assert np.all(np.diff(x) > 0)
    assert np.allclose(line.get_ydata(), [0.0, 0.1, 0.2, 0.3, 0.4])


def test_unknown_metric_names_the_available_ones() -> None:
    with pytest.raises(SimflError, match=r"metric 'f1'.*available: \['accuracy', 'loss'\]"):
        plot_metric_vs_time(_metrics(["global"]), metric="f1")


def test_unknown_node_names_the_nodes_that_report() -> None:
    with pytest.raises(SimflError, match=r"\['client-9'\] report no 'accuracy'.*client-1"):
        plot_metric_vs_time(_metrics(["client-1"]), nodes=["client-9"])


def test_missing_metrics_column_is_named() -> None:
    frame = _metrics(["global"]).drop(columns=["t_s"])
    with pytest.raises(SimflError, match=r"missing column\(s\) \['t_s'\]"):
        plot_metric_vs_time(frame)


def test_figure_is_saved_as_png_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "figures" / "accuracy.png"
    plot_metric_vs_time(_metrics(["global"]), path=path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert [p.name for p in path.parent.iterdir()] == ["accuracy.png"]


def test_save_figure_rejects_an_unknown_suffix(tmp_path: Path) -> None:
    fig = plot_metric_vs_time(_metrics(["global"]))
    with pytest.raises(SimflError, match=r"suffix '\.jpg'.*\.png"):
        save_figure(fig, tmp_path / "a.jpg")


@pytest.mark.parametrize(
    ("span_s", "unit"),
    [(0.0, "s"), (120.0, "s"), (121.0, "min"), (7200.0, "min"), (7201.0, "h"),
     (86400.0, "h"), (math.nan, "s")],
)
def test_time_unit_follows_the_span(span_s: float, unit: str) -> None:
    assert choose_time_unit(span_s).name == unit


def test_time_axis_is_in_hours_for_a_long_run() -> None:
    fig = plot_metric_vs_time(_metrics(["global"], t_end_s=5 * 3600.0))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "simulated time [h]"
    assert np.max(ax.get_lines()[0].get_xdata()) == pytest.approx(5.0)


def test_time_axis_is_in_minutes_for_a_ten_minute_run() -> None:
    fig = plot_metric_vs_time(_metrics(["global"], t_end_s=600.0))
    assert fig.axes[0].get_xlabel() == "simulated time [min]"


def test_many_lines_get_a_note_instead_of_a_legend() -> None:
    fig = plot_metric_vs_time(_metrics([f"client-{i}" for i in range(20)]))
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 20
    assert ax.get_legend() is None
    assert any("20 lines" in t.get_text() for t in ax.texts)


def test_methods_vs_time_draws_one_line_per_method() -> None:
    frames = {"fedavg": _metrics(["global", "client-1"]), "sgfusion": _metrics(["global"])}
    fig = plot_methods_vs_time(frames)
    assert _labels(fig) == ["fedavg", "sgfusion"]
    assert fig.axes[0].get_legend() is not None


def test_methods_vs_time_averages_nodes_without_a_global_one() -> None:
    fig = plot_methods_vs_time({"local": _metrics(["client-1", "client-2"])})
    line = fig.axes[0].get_lines()[0]
    assert line.get_label() == "local (mean of nodes)"
    assert np.allclose(line.get_ydata(), np.array([0.0, 0.1, 0.2, 0.3, 0.4]) + 0.005)


def test_methods_vs_time_draws_the_requested_node_beside_a_global_one() -> None:
    frame = _metrics(["global", "personalized"])
    frame.loc[frame["node"] == "personalized", "value"] += 1.0
    fig = plot_methods_vs_time({"permfl": frame}, node="personalized")
    line = fig.axes[0].get_lines()[0]
    assert line.get_label() == "permfl"
    assert np.allclose(line.get_ydata(), np.array([0.0, 0.1, 0.2, 0.3, 0.4]) + 1.01)


def test_methods_vs_time_needs_a_method() -> None:
    with pytest.raises(SimflError, match="at least one"):
        plot_methods_vs_time({})


def test_metric_vs_round_keeps_the_last_value_of_each_round() -> None:
    frame = pd.DataFrame(
        [(10.0, 0, "global", "accuracy", 0.2), (20.0, 0, "global", "accuracy", 0.3),
         (30.0, 1, "global", "accuracy", 0.5), (5.0, -1, "global", "accuracy", 0.9)],
        columns=["t_s", "round", "node", "metric", "value"],
    )
    fig = plot_metric_vs_round(frame)
    line = fig.axes[0].get_lines()[0]
    assert np.asarray(line.get_xdata()).tolist() == [0.0, 1.0]
    assert np.asarray(line.get_ydata()).tolist() == [0.3, 0.5]
    assert fig.axes[0].get_xlabel() == "round"


def test_metric_vs_round_without_rounds_points_to_time() -> None:
    frame = _metrics(["global"]).assign(round=-1)
    with pytest.raises(SimflError, match="plot_metric_vs_time"):
        plot_metric_vs_round(frame)
