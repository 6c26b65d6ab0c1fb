"""The time unit of a figure's time axis: hours, minutes or seconds, chosen from the span.

Every time axis in :mod:`simfl.analysis` goes through :func:`choose_time_unit` so that all
figures of a run read alike: hours when the span exceeds two hours, minutes when it exceeds
two minutes, seconds otherwise.
"""

from __future__ import annotations

import math
from typing import NamedTuple

HOUR_S = 3600.0
MINUTE_S = 60.0


class TimeUnit(NamedTuple):
    """A time axis unit: its short name (``"h"``, ``"min"``, ``"s"``) and its length in s."""

    name: str
    seconds: float

    def axis_label(self, what: str = "simulated time") -> str:
        """Return an axis label with the unit, e.g. ``"simulated time [h]"``."""
        return f"{what} [{self.name}]"


def choose_time_unit(span_s: float) -> TimeUnit:
    """Return the unit for a time axis covering ``span_s`` seconds.

    Hours when ``span_s > 2 h``, minutes when ``span_s > 2 min``, else seconds. A span that is
    not finite (an empty axis) is shown in seconds.
    """
    if not math.isfinite(span_s):
        return TimeUnit("s", 1.0)
    span = abs(span_s)
    if span > 2 * HOUR_S:
        return TimeUnit("h", HOUR_S)
    if span > 2 * MINUTE_S:
        return TimeUnit("min", MINUTE_S)
    return TimeUnit("s", 1.0)
