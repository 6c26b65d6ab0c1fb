"""The typed event trace: one row per compute, transfer, aggregation, mix, evaluation.

The trace is the ground truth of a run. Figures, summaries and tests read it; nothing else
records what happened when. Columns (see :data:`TRACE_COLUMNS`):

==========  =======  ==========================================================
column      dtype    meaning
==========  =======  ==========================================================
kind        str      one of :data:`EVENT_KINDS`
node        str      the node doing the work, or the sender of a transfer
peer        str      the receiver of a transfer ("" otherwise)
t_start_s   float    simulated start, seconds since the scenario epoch
t_end_s     float    simulated end, seconds since the scenario epoch
bytes       int      payload bytes moved (transfers), else 0
flops       float    floating-point operations done (compute), else 0
round       int      the algorithm's round counter at the event (-1 if none)
info        str      compact JSON with event-specific fields (e.g. staleness)
==========  =======  ==========================================================
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


EVENT_KINDS = (
    "compute",  # local training or any modelled computation on a node
    "transfer",  # bytes over a link between two nodes
    "aggregate",  # a node combined models (FedAvg, edge/cloud aggregation)
    "mix",  # store-carry-forward mixing of a carried model into a region model
    "evaluate",  # a model was evaluated (metrics go to metrics.csv)
    "wait",  # a node waited (for a contact window, availability, a deadline)
    "drop",  # work discarded (straggler past a deadline, transfer cut off)
)

TRACE_COLUMNS = ("kind", "node", "peer", "t_start_s", "t_end_s", "bytes", "flops", "round", "info")


def _info_encoder() -> Callable[[dict[str, Any]], str]:
    """Return a function: info dict -> ``json.dumps(info, sort_keys=True, default=float)``.

    The C encoder is made once: ``json.dumps`` makes a new one per call, which was a third
    of the cost of encoding a trace event's info.
    """
    encoder = json.JSONEncoder(sort_keys=True, default=float)
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # not in the stubs
    if c_make_encoder is None:  # pragma: no cover - CPython always has _json
        return encoder.encode
    chunks = c_make_encoder(None, float, json.encoder.encode_basestring_ascii, None,
                            encoder.key_separator, encoder.item_separator, True, False, True)
    return lambda info: "".join(chunks(info, 0))


_info_json = _info_encoder()


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One timed event of a run (a row of ``trace.parquet``)."""

    kind: str
    node: str
    t_start_s: float
    t_end_s: float
    peer: str = ""
    bytes: int = 0
    flops: float = 0.0
    round: int = -1
    info: str = ""


class Trace:
    """Append-only recorder of :class:`TraceEvent` rows, cheap to append to."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self.bytes_transferred = 0
        """Bytes of every ``transfer`` event recorded so far (delivered payloads)."""

    def record(
        self,
        kind: str,
        node: str,
        t_start_s: float,
        t_end_s: float,
        *,
        peer: str = "",
        nbytes: int = 0,
        flops: float = 0.0,
        round: int = -1,
        **info: Any,
    ) -> None:
        """Append one event. Extra keyword arguments are stored as JSON in ``info``.

        Raises
        ------
        ValueError
            If ``kind`` is not one of :data:`EVENT_KINDS` or the event ends before it starts.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"trace event kind {kind!r} is not one of {EVENT_KINDS}")
        if t_end_s < t_start_s:
            raise ValueError(f"trace event ends at {t_end_s} s before it starts at {t_start_s} s")
        info_json = _info_json(info) if info else ""
        if kind == "transfer":
            self.bytes_transferred += int(nbytes)
        self._rows.append(
            (kind, node, peer, float(t_start_s), float(t_end_s), int(nbytes), float(flops),
             int(round), info_json)
        )

    def __len__(self) -> int:
        return len(self._rows)

    def events(self) -> list[TraceEvent]:
        """Return every event recorded so far, in recording order."""
        return [
            TraceEvent(kind=r[0], node=r[1], peer=r[2], t_start_s=r[3], t_end_s=r[4],
                       bytes=r[5], flops=r[6], round=r[7], info=r[8])
            for r in self._rows
        ]

    def to_frame(self) -> pd.DataFrame:
        """Return the trace as a DataFrame with :data:`TRACE_COLUMNS`, in recording order."""
        import pandas as pd

        frame = pd.DataFrame(self._rows, columns=list(TRACE_COLUMNS))
        return frame.astype(
            {"kind": "string", "node": "string", "peer": "string", "t_start_s": "float64",
             "t_end_s": "float64", "bytes": "int64", "flops": "float64", "round": "int64",
             "info": "string"}
        )
