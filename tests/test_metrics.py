"""Tests of simfl.engine.metrics: tidy metric rows."""

from __future__ import annotations

from simfl.engine.metrics import METRIC_COLUMNS, Metrics


def test_record_appends_one_row_per_value() -> None:
    metrics = Metrics()
    metrics.record(1.0, 0, "cloud", {"accuracy": 0.5, "loss": 2.0})
    metrics.record(2.0, 1, "cloud", {"accuracy": 0.6})
    assert len(metrics) == 3


def test_to_frame_columns_values_and_dtypes() -> None:
    metrics = Metrics()
    metrics.record(1, 3, "edge-0", {"accuracy": 1})
    frame = metrics.to_frame()
    assert tuple(frame.columns) == METRIC_COLUMNS
    assert frame.iloc[0].tolist() == [1.0, 3, "edge-0", "accuracy", 1.0]
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "t_s": "float64", "round": "int64", "node": "string", "metric": "string",
        "value": "float64",
    }


def test_empty_frame_has_columns_and_dtypes() -> None:
    frame = Metrics().to_frame()
    assert len(frame) == 0
    assert tuple(frame.columns) == METRIC_COLUMNS
    assert str(frame.dtypes["value"]) == "float64"


def test_latest_returns_most_recent_value_of_that_node_and_metric() -> None:
    metrics = Metrics()
    metrics.record(1.0, 0, "cloud", {"accuracy": 0.5})
    metrics.record(2.0, 1, "cloud", {"accuracy": 0.7})
    metrics.record(3.0, 1, "edge-0", {"accuracy": 0.9})
    metrics.record(4.0, 2, "cloud", {"loss": 0.1})
    assert metrics.latest("cloud", "accuracy") == 0.7


def test_latest_is_none_when_never_measured() -> None:
    metrics = Metrics()
    metrics.record(1.0, 0, "cloud", {"accuracy": 0.5})
    assert metrics.latest("cloud", "loss") is None
    assert metrics.latest("edge-0", "accuracy") is None
