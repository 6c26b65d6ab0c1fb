"""Links: latency and rate, and the pure transfer-time function every channel uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simfl.errors import SimflError

Sharing = Literal["dedicated", "shared", "serial"]
"""How concurrent transfers over one link type use its medium.

``dedicated``: every transfer gets the full rate (separate channels per node).
``shared``: concurrent transfers share the rate equally (processor sharing, like TDMA/OFDMA
schedulers or TCP flows through one bottleneck).
``serial``: one transfer at a time at the full rate, the others queue first-in first-out.
"""


@dataclass(frozen=True)
class Link:
    """One direction of a link type.

    Attributes
    ----------
    latency_s
        One-way propagation plus protocol latency, paid once per transfer.
    rate_bps
        Data rate in bits per second.
    sharing
        How concurrent transfers share the medium (see :data:`Sharing`).
    """

    latency_s: float
    rate_bps: float
    sharing: Sharing = "dedicated"

    def __post_init__(self) -> None:
        problems = []
        if not self.latency_s >= 0:  # written so that NaN fails too
            problems.append(f"latency_s must be >= 0, got {self.latency_s}")
        if not self.rate_bps > 0:
            problems.append(f"rate_bps must be > 0, got {self.rate_bps}")
        if problems:
            raise SimflError(problems)


def transfer_time_s(nbytes: int, latency_s: float, rate_bps: float) -> float:
    """Return the seconds to move ``nbytes`` over an idle link: latency + 8 * bytes / rate."""
    if nbytes < 0:
        raise ValueError(f"nbytes must be >= 0, got {nbytes}")
    return float(latency_s) + 8.0 * float(nbytes) / float(rate_bps)
