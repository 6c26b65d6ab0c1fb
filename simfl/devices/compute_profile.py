"""Device compute profiles: how many FLOP/s each device sustains, fixed or drawn.

Compute time of any work is ``flops / flops_per_s`` of the device doing it; the FLOPs are
counted from the real torch model (:mod:`simfl.learning.flops`), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simfl.errors import SimflError


@dataclass(frozen=True)
class ComputeProfile:
    """A distribution of device speeds in FLOP/s.

    Attributes
    ----------
    distribution
        ``"fixed"``: every device runs at ``flops_per_s``. ``"lognormal"``: median
        ``flops_per_s`` and log-space standard deviation ``sigma``. ``"uniform"``: between
        ``low_flops_per_s`` and ``high_flops_per_s``.
    """

    distribution: Literal["fixed", "lognormal", "uniform"] = "fixed"
    flops_per_s: float = 1e9
    sigma: float = 0.5
    low_flops_per_s: float = 5e8
    high_flops_per_s: float = 2e9

    def __post_init__(self) -> None:
        problems = []
        if not self.flops_per_s > 0:  # written so that NaN fails too
            problems.append(f"flops_per_s must be > 0, got {self.flops_per_s}")
        if not self.sigma >= 0:
            problems.append(f"sigma must be >= 0, got {self.sigma}")
        if self.distribution == "uniform" and not (
            0 < self.low_flops_per_s <= self.high_flops_per_s
        ):
            problems.append(
                f"uniform needs 0 < low_flops_per_s <= high_flops_per_s, got "
                f"{self.low_flops_per_s} and {self.high_flops_per_s}"
            )
        if problems:
            raise SimflError(problems)

    def draw_flops_per_s(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``count`` device speeds, shape (count,), in FLOP/s."""
        if self.distribution == "fixed":
            return np.full(count, float(self.flops_per_s))
        if self.distribution == "lognormal":
            return self.flops_per_s * np.exp(rng.normal(0.0, self.sigma, size=count))
        return rng.uniform(self.low_flops_per_s, self.high_flops_per_s, size=count)


def compute_time_s(flops: float, flops_per_s: float) -> float:
    """Return the seconds a device of speed ``flops_per_s`` needs for ``flops`` operations."""
    if flops < 0:
        raise ValueError(f"flops must be >= 0, got {flops}")
    return float(flops) / float(flops_per_s)
