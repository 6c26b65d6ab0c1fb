"""Tidy views of a run: events of one kind, busy time per node, final metrics.

Inputs are the trace frame (columns :data:`simfl.engine.trace.TRACE_COLUMNS`) and the tidy
metrics frame (columns :data:`METRIC_COLUMNS`). Every function here is pure: it returns a
new frame or dict and never modifies its input.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from simfl.analysis.nodes import sort_nodes
from simfl.analysis.outcomes import final_and_best
from simfl.engine.trace import EVENT_KINDS, TRACE_COLUMNS
from simfl.errors import SimflError

METRIC_COLUMNS = ("t_s", "round", "node", "metric", "value")
GLOBAL_NODE = "global"
HEADLINE_NODES = (GLOBAL_NODE, "region_mean", "personalized")
"""The node a run's headline metrics come from, in order of preference: the global model,
else (region algorithms, which have none) the mean over the region models, else (zone
algorithms such as SGFusion, and Local, whose devices train alone) every client's own model
on its own test data, pooled: what SGFusion reports as its aggregated RMSE."""


def headline_node(nodes: Iterable[str]) -> str | None:
    """Return the first of :data:`HEADLINE_NODES` among ``nodes``, or None."""
    present = {str(n) for n in nodes}
    return next((n for n in HEADLINE_NODES if n in present), None)


def method_label(method: str, node: str | None) -> str:
    """Return how a figure names ``method``'s line of ``node``: the method alone for the
    global model, else with the node (``local (personalized)``, ``fedmeld (region mean)``),
    so that different kinds of accuracy on one axis say what they are."""
    if node is None or node == GLOBAL_NODE:
        return str(method)
    return f"{method} ({node.replace('_', ' ')})"


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`SimflError` naming the missing columns if ``frame`` lacks any of them."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SimflError(
            f"{what} frame is missing column(s) {missing}; it has {list(frame.columns)}; "
            f"expected at least {list(columns)}"
        )


def events_of(trace: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return the trace rows of one event ``kind`` (a copy, index reset, in trace order).

    Raises
    ------
    SimflError
        If ``kind`` is not one of :data:`simfl.engine.trace.EVENT_KINDS`.
    """
    if kind not in EVENT_KINDS:
        raise SimflError(f"event kind {kind!r} is unknown; valid kinds are {list(EVENT_KINDS)}")
    require_columns(trace, ("kind",), "trace")
    return trace.loc[trace["kind"] == kind].reset_index(drop=True)


def union_length_s(t_start_s: np.ndarray, t_end_s: np.ndarray) -> float:
    """Return the total length (s) of the union of intervals ``[t_start_s, t_end_s]``.

    Overlapping intervals count once, so concurrent work is not double counted.
    """
    starts, ends = merge_intervals(t_start_s, t_end_s)
    return float(np.sum(ends - starts))


def merge_intervals(
    t_start_s: np.ndarray, t_end_s: np.ndarray, gap_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(starts_s, ends_s)`` of the union of intervals, sorted, each of shape (m,).

    Intervals separated by at most ``gap_s`` are merged too (used by figures to merge
    bars closer than a pixel).
    """
    starts = np.asarray(t_start_s, dtype=np.float64)
    ends = np.asarray(t_end_s, dtype=np.float64)
    if starts.size == 0:
        return starts.copy(), ends.copy()
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new_group = np.empty(starts.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = starts[1:] > reach[:-1] + gap_s
    group = np.cumsum(new_group) - 1
    merged_starts = starts[new_group]
    merged_ends = np.full(merged_starts.size, -np.inf)
    np.maximum.at(merged_ends, group, ends)
    return merged_starts, merged_ends


def busy_time_by_node(trace: pd.DataFrame) -> pd.DataFrame:
    """Return one row per node: ``node``, ``compute_s``, ``transfer_s``, ``wait_s`` (seconds).

    Each column is the length of the union of the node's events of that kind (transfers
    count for the sender), so overlapping events are counted once. Nodes that appear only as
    a transfer's receiver get zeros. Rows are in figure order (cloud, edge, satellites,
    clients naturally sorted).
    """
    require_columns(trace, TRACE_COLUMNS, "trace")
    peers = [p for p in trace["peer"].dropna().astype(str) if p]
    nodes = sort_nodes([*trace["node"].dropna().astype(str), *peers])
    rows: dict[str, dict[str, float]] = {n: {} for n in nodes}
    for kind in ("compute", "transfer", "wait"):
        events = trace.loc[trace["kind"] == kind]
        for node, group in events.groupby(events["node"].astype(str), sort=False):
            rows[str(node)][f"{kind}_s"] = union_length_s(
                group["t_start_s"].to_numpy(), group["t_end_s"].to_numpy()
            )
    columns = ["compute_s", "transfer_s", "wait_s"]
    frame = pd.DataFrame(
        [[rows[n].get(c, 0.0) for c in columns] for n in nodes], columns=columns
    )
    frame.insert(0, "node", nodes)
    return frame


def final_metrics(metrics: pd.DataFrame) -> dict[str, float]:
    """Return ``{metric: value}``: the run summary's ``final_metrics`` without the bests.

    The values of the headline node (the first of :data:`HEADLINE_NODES` present; none:
    empty) at its latest evaluation, as :func:`simfl.analysis.outcomes.final_and_best`
    takes them for the summary, so a notebook and ``summary.json`` agree.
    """
    require_columns(metrics, METRIC_COLUMNS, "metrics")
    node = headline_node(metrics["node"]) if len(metrics) else None
    if node is None:
        return {}
    final, _ = final_and_best(metrics, node)
    return {k: v for k, v in final.items() if not k.startswith("best_")}


BYTES_NODE = "network"
"""The node under which algorithms record ``bytes_moved`` at each global evaluation."""


def metric_with_bytes(metrics: pd.DataFrame, metric: str = "accuracy",
                      node: str = GLOBAL_NODE) -> pd.DataFrame:
    """Return one row per evaluation of ``node``: ``t_s``, ``round``, ``value`` and
    ``bytes_moved`` (bytes transferred by then), in time order.

    Evaluations are paired with the ``bytes_moved`` rows of node :data:`BYTES_NODE` recorded
    with them (same time and round, in order); the frame is empty when the run recorded none.
    """
    require_columns(metrics, METRIC_COLUMNS, "metrics")
    keys = ["t_s", "round"]
    values = metrics[(metrics["node"] == node) & (metrics["metric"] == metric)]
    moved = metrics[(metrics["node"] == BYTES_NODE) & (metrics["metric"] == "bytes_moved")]
    values = values.assign(seq=values.groupby(keys).cumcount())[[*keys, "seq", "value"]]
    moved = moved.assign(seq=moved.groupby(keys).cumcount())[[*keys, "seq", "value"]]
    paired = values.merge(moved.rename(columns={"value": "bytes_moved"}), on=[*keys, "seq"])
    return (paired.sort_values(keys, kind="stable").drop(columns="seq")
            .reset_index(drop=True))
