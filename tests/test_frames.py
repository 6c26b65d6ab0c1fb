"""Tests of simfl.analysis.frames: tidy views of a run's metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from simfl.analysis.frames import metric_with_bytes
from simfl.errors import SimflError


def _metrics(rows: list[tuple[float, int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["t_s", "round", "node", "metric", "value"])


def test_each_global_evaluation_gets_the_bytes_recorded_with_it() -> None:
    metrics = _metrics([
        (0.0, 0, "global", "accuracy", 0.1), (0.0, 0, "network", "bytes_moved", 0.0),
        (5.0, 1, "global", "accuracy", 0.5), (5.0, 1, "global", "loss", 1.0),
        (5.0, 1, "network", "bytes_moved", 100.0),
        (5.0, 1, "aux", "accuracy", 0.9),
        (5.0, 1, "global", "accuracy", 0.6), (5.0, 1, "network", "bytes_moved", 120.0),
    ])
    got = metric_with_bytes(metrics)
    assert got.to_dict("list") == {"t_s": [0.0, 5.0, 5.0], "round": [0, 1, 1],
                                   "value": [0.1, 0.5, 0.6],
                                   "bytes_moved": [0.0, 100.0, 120.0]}


def test_a_run_without_bytes_gives_an_empty_frame() -> None:
    assert metric_with_bytes(_metrics([(1.0, 1, "global", "accuracy", 0.5)])).empty


def test_missing_columns_are_named() -> None:
    with pytest.raises(SimflError, match=r"missing column\(s\) \['metric'"):
        metric_with_bytes(pd.DataFrame({"t_s": [], "round": [], "node": [], "value": []}))
