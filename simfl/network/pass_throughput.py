"""How long bytes take over a link whose rate changes during a pass (pure functions).

A pass's rate is sampled on a time grid (from the slant range and a link budget, or a
constant) and taken as linear between samples. The bits sent between two times are the
integral of that rate; a transfer finishes where the integral reaches its size.

The per-transfer lookups bisect Python lists (copies of the arrays): a transfer asks one
or two scalar questions of a profile, where numpy's per-call cost would dominate. Python
floats are IEEE doubles, so the answers are the same to the bit.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RateProfile:
    """A link rate sampled over one contact window, linear between samples.

    Attributes
    ----------
    t_s
        Strictly increasing sample times (s since the epoch), shape (K,), K >= 2.
    rate_bps
        Rate at each sample, shape (K,), >= 0.
    """

    t_s: FloatArray
    rate_bps: FloatArray
    cum_bits: FloatArray = field(init=False, repr=False)
    _lists: tuple[list[float], list[float], list[float]] = field(init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=float)
        r = np.asarray(self.rate_bps, dtype=float)
        if t.shape != r.shape or t.ndim != 1 or len(t) < 2:
            raise ValueError("t_s and rate_bps must be 1-D arrays of the same length >= 2")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"t_s must be finite seconds, got {t[~np.isfinite(t)][:3]}")
        if np.any(np.diff(t) <= 0):
            raise ValueError("t_s must be strictly increasing")
        if np.any(~np.isfinite(r)) or np.any(r < 0):
            raise ValueError("rate_bps must be finite and >= 0")
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(t))])
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "rate_bps", r)
        object.__setattr__(self, "cum_bits", cum)
        object.__setattr__(self, "_lists", (t.tolist(), r.tolist(), cum.tolist()))

    @property
    def end_s(self) -> float:
        """Return the last sample time (the end of the window)."""
        return float(self.t_s[-1])

    def bits_until(self, t: float) -> float:
        """Return bits sendable from the first sample to time ``t`` (clipped to the grid)."""
        ts, rates, cum = self._lists
        t = min(max(float(t), ts[0]), ts[-1])
        k = min(bisect.bisect_right(ts, t), len(ts) - 1)
        t0, r0 = ts[k - 1], rates[k - 1]
        slope = (rates[k] - r0) / (ts[k] - t0)
        u = t - t0
        return cum[k - 1] + r0 * u + 0.5 * slope * u * u

    def bits_between(self, a_s: float, b_s: float) -> float:
        """Return the bits sendable between times ``a_s`` and ``b_s``."""
        return max(0.0, self.bits_until(b_s) - self.bits_until(a_s))

    def finish_time_s(self, start_s: float, nbits: float) -> float | None:
        """Return when ``nbits`` started at ``start_s`` are sent, or None if the window ends first.

        Between samples the rate is linear, so the bits sent are quadratic in time; the
        finish time solves that quadratic exactly.
        """
        ts, rates, cum = self._lists
        start_s = max(float(start_s), ts[0])
        if nbits <= 0:
            return start_s
        target = self.bits_until(start_s) + float(nbits)
        if target > cum[-1] * (1 + 1e-12) + 1e-9:
            return None
        k = bisect.bisect_left(cum, target)
        k = min(max(k, 1), len(ts) - 1)
        t0, t1 = ts[k - 1], ts[k]
        r0, r1 = rates[k - 1], rates[k]
        need = target - cum[k - 1]
        half_slope = 0.5 * (r1 - r0) / (t1 - t0)
        # Root of half_slope u^2 + r0 u - need = 0 written as 2 need / (r0 + sqrt(...)):
        # no cancellation when the slope is small next to r0 (the textbook form loses
        # ~1e-5 s at 1 Gbit/s), and it holds for any slope sign, and for r0 = 0.
        root = r0 + math.sqrt(max(r0 * r0 + 4.0 * half_slope * need, 0.0))
        u = 2.0 * need / root if root > 0 else t1 - t0
        return float(max(start_s, min(t0 + max(u, 0.0), t1)))
