"""Per-node Gantt chart: rows, bar collections per row and kind, truncation, speed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import PathPatch

from simfl.analysis import node_sort_key, plot_node_timeline, sort_nodes
from simfl.engine.trace import Trace
from simfl.errors import SimflError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RECEIVER_ALPHA = 0.35


def _small_trace() -> pd.DataFrame:
    trace = Trace()
    trace.record("compute", "client-1", 0.0, 50.0, flops=1e9)
    trace.record("transfer", "client-1", 50.0, 60.0, peer="edge-0", nbytes=1000)
    trace.record("wait", "edge-0", 0.0, 55.0)
    trace.record("aggregate", "edge-0", 60.0, 61.0)
    trace.record("drop", "client-2", 40.0, 40.0)
    return trace.to_frame()


def _row_labels(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def _bars(fig) -> list[PolyCollection]:
    return [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]


def test_node_order_puts_infrastructure_first_and_clients_naturally() -> None:
    names = ["client-10", "client-2", "sat-1", "cloud", "edge-3", "relay"]
    assert sort_nodes(names) == ["cloud", "edge-3", "sat-1", "relay", "client-2", "client-10"]


def test_node_sort_key_compares_numbers_as_numbers() -> None:
    assert node_sort_key("client-2") < node_sort_key("client-10")


def test_one_row_per_node_in_node_order() -> None:
    fig = plot_node_timeline(_small_trace())
    assert _row_labels(fig) == ["edge-0", "client-1", "client-2"]


def test_one_bar_collection_per_row_and_kind() -> None:
    fig = plot_node_timeline(_small_trace())
    # client-1 compute + transfer, edge-0 receiving + aggregate, client-2 drop
    assert len(_bars(fig)) == 5
    hatched = [p for p in fig.axes[0].patches if isinstance(p, PathPatch)]
    assert len(hatched) == 1
    assert hatched[0].get_hatch() == "////"


def test_transfer_is_drawn_pale_on_the_receiver_row() -> None:
    fig = plot_node_timeline(_small_trace())
    pale = [c for c in _bars(fig) if c.get_alpha() == RECEIVER_ALPHA]
    assert len(pale) == 1
    y_top = np.asarray(pale[0].get_paths()[0].vertices)[:, 1].min()
    assert 0.0 <= y_top < 0.5  # row 0 is edge-0, the receiver; lower half of its row


def test_drop_is_drawn_in_red_and_widened_to_stay_visible() -> None:
    fig = plot_node_timeline(_small_trace())
    red = [c for c in _bars(fig) if np.allclose(np.asarray(c.get_facecolor())[0, :3],
                                                  (0xE1 / 255, 0x57 / 255, 0x59 / 255))]
    assert len(red) == 1
    xs = np.asarray(red[0].get_paths()[0].vertices)[:, 0]
    assert xs.max() - xs.min() > 0


def test_legend_names_the_kinds_present() -> None:
    fig = plot_node_timeline(_small_trace())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["wait", "transfer (receiving)", "compute", "transfer (sending)",
                      "aggregate / mix / evaluate", "drop"]


def test_back_to_back_events_merge_into_one_bar() -> None:
    trace = Trace()
    for i in range(1000):
        trace.record("compute", "client-1", float(i), float(i + 1))
    (bars,) = _bars(plot_node_timeline(trace.to_frame()))
    assert len(bars.get_paths()) == 1


def test_rows_beyond_max_nodes_are_cut_with_a_note() -> None:
    trace = Trace()
    for i in range(50):
        trace.record("compute", f"client-{i}", 0.0, 10.0)
    fig = plot_node_timeline(trace.to_frame(), max_nodes=10)
    assert _row_labels(fig) == [f"client-{i}" for i in range(10)]
    assert "10 of 50 nodes shown" in fig.axes[0].get_title()


def test_time_window_clips_events_and_axis() -> None:
    trace = Trace()
    trace.record("compute", "client-1", 0.0, 100.0)
    trace.record("compute", "client-2", 500.0, 600.0)
    fig = plot_node_timeline(trace.to_frame(), t_range_s=(50.0, 110.0))
    assert _row_labels(fig) == ["client-1"]
    assert fig.axes[0].get_xlim() == (50.0, 110.0)
    xs = np.asarray(_bars(fig)[0].get_paths()[0].vertices)[:, 0]
    assert (xs.min(), xs.max()) == (50.0, 100.0)


def test_time_axis_unit_follows_the_window() -> None:
    trace = Trace()
    trace.record("compute", "client-1", 0.0, 3 * 3600.0)
    fig = plot_node_timeline(trace.to_frame())
    assert fig.axes[0].get_xlabel() == "simulated time [h]"
    assert fig.axes[0].get_xlim() == (0.0, 3.0)


def test_bad_time_window_is_rejected() -> None:
    with pytest.raises(SimflError, match=r"t_range_s=\(10.0, 5.0\).*start_s < end_s"):
        plot_node_timeline(_small_trace(), t_range_s=(10.0, 5.0))


def test_max_nodes_must_be_positive() -> None:
    with pytest.raises(SimflError, match="max_nodes must be >= 1"):
        plot_node_timeline(_small_trace(), max_nodes=0)


def test_empty_trace_gives_a_figure_that_says_so() -> None:
    fig = plot_node_timeline(Trace().to_frame())
    assert any("no events" in t.get_text() for t in fig.axes[0].texts)


def test_hundred_thousand_events_render(tmp_path: Path) -> None:
    # speed is measured in benchmarks, not asserted here (a loaded CI machine is not slow code)
    rng = np.random.default_rng(7)
    n = 100_000
    nodes = np.array(["cloud", "edge-0", "edge-1"] + [f"client-{i}" for i in range(60)])
    kind = rng.choice(["compute", "transfer", "wait", "aggregate", "drop"], n,
                      p=[0.5, 0.35, 0.1, 0.04, 0.01])
    start_s = np.sort(rng.uniform(0.0, 6 * 3600.0, n))
    trace = pd.DataFrame({
        "kind": kind, "node": rng.choice(nodes, n),
        "peer": np.where(kind == "transfer", rng.choice(nodes, n), ""),
        "t_start_s": start_s, "t_end_s": start_s + rng.uniform(0.5, 60.0, n),
        "bytes": 0, "flops": 0.0, "round": 0, "info": "",
    })
    path = tmp_path / "timeline.png"
    plot_node_timeline(trace, path=path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
