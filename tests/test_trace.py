"""Tests of simfl.engine.trace: the typed event trace."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from simfl.engine.trace import EVENT_KINDS, TRACE_COLUMNS, Trace, TraceEvent

DTYPES = {
    "kind": "string", "node": "string", "peer": "string", "t_start_s": "float64",
    "t_end_s": "float64", "bytes": "int64", "flops": "float64", "round": "int64",
    "info": "string",
}


def test_to_frame_has_trace_columns_in_order() -> None:
    trace = Trace()
    trace.record("compute", "client-0", 0.0, 1.0, flops=5.0)
    assert tuple(trace.to_frame().columns) == TRACE_COLUMNS


def test_to_frame_dtypes() -> None:
    trace = Trace()
    trace.record("transfer", "client-0", 0.0, 1.0, peer="cloud", nbytes=10, round=2)
    frame = trace.to_frame()
    assert {c: str(t) for c, t in frame.dtypes.items()} == DTYPES


def test_empty_trace_frame_has_columns_and_dtypes() -> None:
    frame = Trace().to_frame()
    assert len(frame) == 0
    assert {c: str(t) for c, t in frame.dtypes.items()} == DTYPES


def test_record_stores_every_field() -> None:
    trace = Trace()
    trace.record("transfer", "client-0", 1.5, 2.5, peer="cloud", nbytes=1234, round=3)
    row = trace.to_frame().iloc[0].tolist()
    assert row == ["transfer", "client-0", "cloud", 1.5, 2.5, 1234, 0.0, 3, ""]


def test_defaults_for_optional_fields() -> None:
    trace = Trace()
    trace.record("wait", "sat-1", 0.0, 4.0)
    event = trace.events()[0]
    assert (event.peer, event.bytes, event.flops, event.round, event.info) == ("", 0, 0.0, -1, "")


def test_rows_keep_recording_order() -> None:
    trace = Trace()
    trace.record("compute", "b", 5.0, 6.0)
    trace.record("compute", "a", 1.0, 2.0)
    assert trace.to_frame()["node"].tolist() == ["b", "a"]
    assert len(trace) == 2


def test_events_returns_trace_events() -> None:
    trace = Trace()
    trace.record("aggregate", "cloud", 3.0, 3.0, round=1, clients=4)
    assert trace.events() == [
        TraceEvent(kind="aggregate", node="cloud", t_start_s=3.0, t_end_s=3.0, round=1,
                   info='{"clients": 4}')
    ]


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="kind 'train' is not one of"):
        Trace().record("train", "client-0", 0.0, 1.0)


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"ends at 1\.0 s before it starts at 2\.0 s"):
        Trace().record("compute", "client-0", 2.0, 1.0)


def test_zero_duration_event_is_allowed() -> None:
    trace = Trace()
    trace.record("drop", "client-0", 2.0, 2.0)
    assert len(trace) == 1


def test_every_documented_kind_is_accepted() -> None:
    trace = Trace()
    for kind in EVENT_KINDS:
        trace.record(kind, "n", 0.0, 0.0)
    assert trace.to_frame()["kind"].tolist() == list(EVENT_KINDS)


def test_info_json_round_trip() -> None:
    trace = Trace()
    info: dict[str, Any] = {"staleness": 3, "link": "up", "weights": [0.25, 0.75], "ok": True}
    trace.record("mix", "sat-2", 0.0, 1.0, **info)
    assert json.loads(trace.events()[0].info) == info


def test_info_keys_are_sorted() -> None:
    trace = Trace()
    trace.record("mix", "sat-2", 0.0, 1.0, zeta=1, alpha=2)
    assert trace.events()[0].info == '{"alpha": 2, "zeta": 1}'


def test_info_accepts_numpy_scalars() -> None:
    trace = Trace()
    trace.record("evaluate", "cloud", 0.0, 0.0, accuracy=np.float32(0.5), n=np.int64(7))
    assert json.loads(trace.events()[0].info) == {"accuracy": 0.5, "n": 7.0}


def test_bytes_transferred_counts_transfer_events_only() -> None:
    trace = Trace()
    trace.record("transfer", "a", 0.0, 1.0, peer="b", nbytes=100)
    trace.record("drop", "a", 1.0, 1.0, nbytes=7)
    trace.record("transfer", "b", 1.0, 2.0, peer="a", nbytes=50)
    assert trace.bytes_transferred == 150
