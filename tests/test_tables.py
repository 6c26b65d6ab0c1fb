"""Tables and tidy frames: human units, summary table, bytes by group, busy time, finals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simfl.analysis import (
    busy_time_by_node,
    bytes_by,
    events_of,
    final_metrics,
    human_bytes,
    human_duration,
    merge_intervals,
    summary_table,
)
from simfl.engine.trace import Trace
from simfl.errors import SimflError


def _trace() -> pd.DataFrame:
    trace = Trace()
    trace.record("compute", "client-1", 0.0, 10.0, flops=1e9)
    trace.record("compute", "client-1", 5.0, 20.0, flops=1e9)  # overlaps the first
    trace.record("transfer", "client-1", 20.0, 25.0, peer="edge-0", nbytes=1000,
                 link_type="wifi")
    trace.record("transfer", "client-2", 20.0, 30.0, peer="edge-0", nbytes=3000,
                 link_type="wifi")
    trace.record("transfer", "edge-0", 30.0, 40.0, peer="cloud", nbytes=4000, link_type="fiber")
    trace.record("wait", "edge-0", 0.0, 30.0)
    return trace.to_frame()


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"),
     (10 * 1024**2, "10.0 MiB"), (int(3.25 * 1024**3), "3.25 GiB"), (5 * 1024**4, "5.00 TiB"),
     (-2048, "-2.00 KiB")],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("t_s", "text"),
    [(0.0, "0 s"), (0.25, "250 ms"), (12.54, "12.5 s"), (200.0, "3 m 20 s"),
     (3725.0, "1 h 02 m 05 s"), (93600.0, "26 h 00 m 00 s"), (-90.0, "-1 m 30 s"),
     (float("nan"), "n/a")],
)
def test_human_duration(t_s: float, text: str) -> None:
    assert human_duration(t_s) == text


def test_summary_table_shows_every_value_in_human_units() -> None:
    summary = {
        "final_metrics": {"accuracy": 0.91234},
        "simulated_time_s": 7265.0,
        "wall_time_s": 12.5,
        "bytes_moved": 3 * 1024**2,
        "event_counts": {"compute": 1200, "transfer": 2400},
        "algorithm": "fedavg",
    }
    table = summary_table(summary)
    assert "final_metrics.accuracy  0.9123" in table
    assert "2 h 01 m 05 s (7,265 s)" in table
    assert "wall_time_s             12.5 s\n" in table
    assert "3.00 MiB (3,145,728 B)" in table
    assert "event_counts.transfer   2,400" in table
    assert "fedavg" in table


def test_summary_table_aligns_the_values() -> None:
    table = summary_table({"a": 1, "longer_key": 2, "mid_key": 3})
    columns = {line.index(line.split()[-1]) for line in table.splitlines()}
    assert columns == {len("longer_key") + 2}


def test_summary_table_has_an_optional_title() -> None:
    lines = summary_table({"a": 1}, title="run 7").splitlines()
    assert lines[0] == "run 7"
    assert set(lines[1]) == {"="}


def test_bytes_by_sender_sums_transfers_largest_first() -> None:
    frame = bytes_by(_trace())
    assert list(frame["node"]) == ["edge-0", "client-2", "client-1"]
    assert list(frame["bytes"]) == [4000, 3000, 1000]
    assert list(frame["transfers"]) == [1, 1, 1]


def test_bytes_by_link_type_reads_the_info_json() -> None:
    frame = bytes_by(_trace(), by="link_type")
    assert dict(zip(frame["link_type"], frame["bytes"], strict=True)) == {"wifi": 4000,
                                                                          "fiber": 4000}


def test_bytes_by_two_columns() -> None:
    frame = bytes_by(_trace(), by=("peer", "link_type"))
    assert list(frame.columns) == ["peer", "link_type", "bytes", "transfers"]
    assert frame.loc[frame["peer"] == "edge-0", "transfers"].item() == 2


def test_bytes_by_unknown_key_lists_the_choices() -> None:
    with pytest.raises(SimflError, match=r"'band' is neither.*info keys are \['link_type'\]"):
        bytes_by(_trace(), by="band")


def test_bytes_by_without_transfers_is_empty() -> None:
    trace = _trace()
    frame = bytes_by(trace.loc[trace["kind"] != "transfer"], by="node")
    assert frame.empty and list(frame.columns) == ["node", "bytes", "transfers"]


def test_events_of_returns_one_kind() -> None:
    transfers = events_of(_trace(), "transfer")
    assert len(transfers) == 3 and set(transfers["kind"]) == {"transfer"}
    assert list(transfers.index) == [0, 1, 2]


def test_events_of_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(SimflError, match=r"'train' is unknown; valid kinds are \['compute'"):
        events_of(_trace(), "train")


def test_busy_time_counts_overlaps_once() -> None:
    frame = busy_time_by_node(_trace()).set_index("node")
    assert list(frame.index) == ["cloud", "edge-0", "client-1", "client-2"]
    assert frame.loc["client-1"].to_numpy().tolist() == [20.0, 5.0, 0.0]
    assert frame.loc["edge-0"].to_numpy().tolist() == [0.0, 10.0, 30.0]
    assert frame.loc["cloud"].to_numpy().tolist() == [0.0, 0.0, 0.0]


def test_merge_intervals_joins_overlaps_and_near_gaps() -> None:
    starts, ends = merge_intervals(np.array([5.0, 0.0, 20.0, 11.0]),
                                   np.array([8.0, 6.0, 30.0, 12.0]), gap_s=3.5)
    assert starts.tolist() == [0.0, 20.0]
    assert ends.tolist() == [12.0, 30.0]


def _metrics(rows: list[tuple[float, int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["t_s", "round", "node", "metric", "value"])


def test_final_metrics_takes_the_last_global_value() -> None:
    metrics = _metrics([(20.0, 2, "global", "accuracy", 0.8), (10.0, 1, "global", "accuracy", 0.5),
                        (30.0, 3, "client-1", "accuracy", 0.1)])
    assert final_metrics(metrics) == {"accuracy": 0.8}


def test_final_metrics_are_the_headline_nodes_latest_evaluation() -> None:
    metrics = _metrics([(10.0, 1, "client-1", "loss", 9.0), (20.0, 2, "client-1", "loss", 1.0),
                        (20.0, 2, "client-2", "loss", 3.0), (20.0, 2, "global", "accuracy", 0.7)])
    assert final_metrics(metrics) == {"accuracy": 0.7}
    regions = _metrics([(5.0, 1, "region_mean", "accuracy", 0.4),
                        (9.0, 2, "region_mean", "accuracy", 0.6),
                        (9.0, 2, "region-1", "accuracy", 0.9)])
    assert final_metrics(regions) == {"accuracy": 0.6}


def test_final_metrics_equal_the_run_summary() -> None:
    from pathlib import Path

    import simfl

    quickstart = Path(__file__).resolve().parents[1] / "scenarios" / "quickstart.yaml"
    result = simfl.simulate(simfl.load_scenario(quickstart,
                                                overrides=["algorithm.rounds=2"]))
    summary = {k: v for k, v in result.summary["final_metrics"].items()
               if not k.startswith("best_")}
    assert final_metrics(result.metrics) == summary


def test_final_metrics_of_nothing_is_empty() -> None:
    assert final_metrics(_metrics([])) == {}
