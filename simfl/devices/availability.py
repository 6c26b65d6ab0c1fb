"""Device availability: alternating on and off periods (pure interval arithmetic).

A device computes only while it is on. Work that outlasts an on-period pauses and resumes
at the next one. Periods are either periodic (``on_s``, ``off_s``, a phase per device) or
random (exponential durations with means ``mean_on_s``, ``mean_off_s``) drawn lazily from
the device's own random stream, so they are deterministic for a given seed.
"""

from __future__ import annotations

import bisect
import math

import numpy as np


class Availability:
    """On/off periods of one device.

    Parameters
    ----------
    on_s, off_s
        Durations of the on and off periods (periodic), or their means (random).
    phase_s
        Offset of the pattern: at ``t = 0`` the device is ``phase_s`` seconds into its cycle.
    random
        If True, durations are exponential with the given means, drawn from ``rng``.
    rng
        The device's random stream (required when ``random``).
    """

    def __init__(
        self,
        on_s: float,
        off_s: float,
        *,
        phase_s: float = 0.0,
        random: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:
        if on_s <= 0 or off_s < 0:
            raise ValueError(f"on_s must be > 0 and off_s >= 0, got {on_s} and {off_s}")
        if random and rng is None:
            raise ValueError("random availability needs an rng")
        self.on_s = float(on_s)
        self.off_s = float(off_s)
        self.phase_s = float(phase_s) % (self.on_s + self.off_s)
        self.random = random
        self._rng = rng
        # random mode: list of [start, end) on-intervals, extended on demand
        self._on: list[tuple[float, float]] = []
        self._ends: list[float] = []  # end of each on-interval, increasing (for bisection)
        self._generated_until_s = 0.0
        if random:
            assert rng is not None
            self._generated_until_s = -float(rng.uniform(0, self.on_s + self.off_s))

    def _extend(self, t_s: float) -> None:
        """Draw periods until the last on-interval ends after ``t_s``."""
        assert self._rng is not None
        while not self._ends or self._ends[-1] <= t_s:
            start = self._generated_until_s
            end = start + float(self._rng.exponential(self.on_s))
            if end > start:  # an empty on-period is no period at all
                self._on.append((start, end))
                self._ends.append(end)
            self._generated_until_s = end + float(self._rng.exponential(self.off_s))

    def on_interval(self, t_s: float) -> tuple[float, float]:
        """Return the on-interval ``[start_s, end_s)`` that contains or follows ``t_s``.

        If the device is on at ``t_s`` the interval contains it; otherwise it is the next one.
        """
        if self.off_s == 0:
            return (t_s, math.inf)
        if not self.random:
            period = self.on_s + self.off_s
            k = math.floor((t_s + self.phase_s) / period)
            start = k * period - self.phase_s
            if t_s < start + self.on_s:
                return (start, start + self.on_s)
            return (start + period, start + period + self.on_s)
        self._extend(t_s)
        return self._on[bisect.bisect_right(self._ends, t_s)]

    def finish_time_s(self, t_s: float, busy_s: float) -> float:
        """Return when ``busy_s`` seconds of work started at ``t_s`` finish, pausing when off."""
        remaining = float(busy_s)
        t = float(t_s)
        while True:
            start, end = self.on_interval(t)
            t = max(t, start)
            if t + remaining <= end:
                return t + remaining
            remaining -= end - t
            t = end
