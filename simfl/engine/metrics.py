"""Tidy metric rows (``t_s, round, node, metric, value``) recorded during a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


METRIC_COLUMNS = ("t_s", "round", "node", "metric", "value")
METRIC_DTYPES = {"t_s": "float64", "round": "int64", "node": "string", "metric": "string",
                 "value": "float64"}
"""The dtype of each metrics column, in memory and when read back from metrics.csv."""


class Metrics:
    """Append-only recorder of measured metrics, one row per (time, node, metric)."""

    def __init__(self) -> None:
        self._rows: list[tuple[float, int, str, str, float]] = []

    def record(self, t_s: float, round: int, node: str, values: dict[str, float]) -> None:
        """Append one row per entry of ``values`` (metric name -> value)."""
        for metric, value in values.items():
            self._rows.append((float(t_s), int(round), node, metric, float(value)))

    def __len__(self) -> int:
        return len(self._rows)

    def latest(self, node: str, metric: str) -> float | None:
        """Return the most recent value of ``metric`` for ``node``, or None if never measured."""
        for t_s, _round, n, m, v in reversed(self._rows):
            del t_s
            if n == node and m == metric:
                return v
        return None

    def to_frame(self) -> pd.DataFrame:
        """Return all rows as a DataFrame with :data:`METRIC_COLUMNS`."""
        import pandas as pd

        frame = pd.DataFrame(self._rows, columns=list(METRIC_COLUMNS))
        return frame.astype(METRIC_DTYPES)
