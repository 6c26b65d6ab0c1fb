"""Per-client sequence data (workouts -> heart rate) and the helpers both its sources share.

Real FitRec workouts (:mod:`simfl.learning.fitrec`) and generated ones
(:mod:`simfl.learning.geo_workouts`) end as :class:`SequenceClient` objects: one user in one
zone, with float32 inputs ``(n, seq, features)`` and targets ``(n, seq)`` (heart rate per
step, bpm) for its own train and test workouts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from simfl.errors import SimflError

#: Input features of a step, in order: distance covered since the previous step (km),
#: altitude (m) and time since the workout's start (s), as in FitRec.
WORKOUT_FEATURES = ("distance_km", "altitude_m", "time_elapsed_s")
CHUNK_ROWS = 1 << 16  # rows (steps) scaled at once


@dataclass(frozen=True, eq=False)
class SequenceClient:
    """One user's workouts in one zone, split into train and test.

    Attributes
    ----------
    name
        ``f"{zone}/{user}"``: unique among the clients of a dataset.
    zone, user
        The zone (group) and the user the workouts belong to.
    x_train, x_test
        float32 inputs ``(n, seq, features)``.
    y_train, y_test
        float32 targets: ``(n, seq)`` per step, or ``(n,)`` for the last step only.
    """

    name: str
    zone: str
    user: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class FeatureScaling:
    """Per-feature affine scaling ``(x - mean) / std * z_multiple`` of workout inputs.

    ``mean`` and ``std`` are float64 arrays ``(features,)``; a feature that never varies
    gets ``std = 1``.
    """

    mean: np.ndarray
    std: np.ndarray
    z_multiple: float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, z_multiple: float = 1.0) -> FeatureScaling:
        """Return the scaling that z-scores ``x`` ``(..., features)`` over all other axes.

        Accumulates in float64 over chunks of rows, so a large float32 ``x`` is never copied
        whole.
        """
        flat = np.asarray(x).reshape(-1, x.shape[-1])
        n = max(1, len(flat))
        mean = sum((c.sum(axis=0, dtype=np.float64) for c in _chunks(flat)),
                   np.zeros(flat.shape[1])) / n
        var = sum((((c - mean) ** 2).sum(axis=0) for c in _chunks(flat)),
                  np.zeros(flat.shape[1])) / n
        std = np.sqrt(var)
        return cls(mean, np.where(std > 0, std, 1.0), float(z_multiple))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Return ``x`` scaled, as a new float32 array of the same shape."""
        arr = np.asarray(x)
        out = np.empty(arr.shape, dtype=np.float32)
        flat_in = arr.reshape(-1, arr.shape[-1])
        flat_out = out.reshape(-1, arr.shape[-1])
        for start in range(0, len(flat_in), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            flat_out[rows] = (flat_in[rows] - self.mean) / self.std * self.z_multiple
        return out


def _chunks(flat: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(flat), CHUNK_ROWS):
        yield flat[start : start + CHUNK_ROWS].astype(np.float64)


def split_indices(n: int, test_fraction: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted ``(train, test)`` index arrays of a random split of ``range(n)``.

    The test part has ``round(test_fraction * n)`` items, but at least 1 and at most
    ``n - 1``, so both parts are non-empty; ``n`` must be at least 2.
    """
    if not 0.0 < test_fraction < 1.0:
        raise SimflError(
            f"test_fraction={test_fraction} is outside (0, 1); use e.g. 0.25 for a 25% test set"
        )
    if n < 2:
        raise SimflError(f"cannot split {n} workouts into train and test; need at least 2")
    n_test = min(n - 1, max(1, round(test_fraction * n)))
    order = rng.permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
