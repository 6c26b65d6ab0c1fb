"""Zone similarity for SGFusion (arXiv 2510.23455): label histograms and their distances.

Every user bins its training labels (regression targets, e.g. heart rate at every step, or
class labels) over bin edges COMMON to all zones, optionally adds Laplace noise for
epsilon-differential privacy, and sends the counts to its zone server; the zone sums them
and normalises to frequencies; the cloud's distance matrix is
``D[z, z'] = ||h_z - h_z'||_2``. (The official code bins each zone over its own min-max,
so its histograms of different zones do not describe the same values; simfl does not.)

Pure numpy; the timed protocol lives in :mod:`.zone_fl`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simfl.errors import SimflError


def common_edges(values: Sequence[np.ndarray], bins: int,
                 value_range: tuple[float, float] | None = None) -> np.ndarray:
    """Return ``bins + 1`` equal-width bin edges shared by every zone, shape (bins+1,).

    ``value_range`` fixes them (a range known in advance, e.g. 30-230 bpm); otherwise they
    span the smallest and largest value in ``values``.
    """
    if bins < 1:
        raise SimflError(f"histogram bins={bins} must be >= 1 (SGFusion uses 10)")
    if value_range is None:
        flat = [np.asarray(v, dtype=np.float64).ravel() for v in values]
        flat = [f for f in flat if f.size]
        if not flat:
            raise SimflError("no labels to bin; every zone's users have empty training data")
        lo, hi = min(float(f.min()) for f in flat), max(float(f.max()) for f in flat)
    else:
        lo, hi = float(value_range[0]), float(value_range[1])
        if not lo < hi:
            raise SimflError(f"histogram range {value_range} is empty; give (low, high) with "
                             "low < high, e.g. (30, 230) for heart rate in bpm")
    if lo == hi:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def count_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return how many ``values`` fall in each bin, shape (len(edges)-1,), float64.

    Values outside the edges count in the first or last bin (a range given in advance may
    not cover every value).
    """
    v = np.clip(np.asarray(values, dtype=np.float64).ravel(), edges[0], edges[-1])
    counts, _ = np.histogram(v, bins=edges)
    return counts.astype(np.float64)


def class_histogram(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Return the count of each class label, shape (num_classes,), float64."""
    return np.bincount(np.asarray(labels, dtype=np.int64).ravel(),
                       minlength=num_classes).astype(np.float64)


def laplace_noise(counts: np.ndarray, epsilon: float, sensitivity: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Return ``counts`` plus Laplace(sensitivity / epsilon) noise in every bin, same shape.

    Releasing the noisy counts is ``epsilon``-differentially private with respect to a change
    that moves at most ``sensitivity`` counts in L1 (one sample adds or removes its targets:
    ``sensitivity`` = targets per sample).
    """
    if not epsilon > 0:
        raise SimflError(f"DP epsilon={epsilon} must be > 0 (smaller is more private)")
    return counts + rng.laplace(0.0, sensitivity / epsilon, size=counts.shape)


def frequencies(counts: np.ndarray) -> np.ndarray:
    """Return non-negative counts normalised to sum 1 (noise can make bins negative: 0).

    An all-zero histogram becomes uniform.
    """
    c = np.clip(np.asarray(counts, dtype=np.float64), 0.0, None)
    total = c.sum(axis=-1, keepdims=True)
    uniform = np.full_like(c, 1.0 / c.shape[-1])
    return np.where(total > 0, c / np.where(total > 0, total, 1.0), uniform)


def histogram_distances(H: np.ndarray) -> np.ndarray:
    """Return ``D[z, z'] = ||H[z] - H[z']||_2`` between zone histograms, shape (n, n)."""
    H = np.asarray(H, dtype=np.float64)
    diff = H[:, None, :] - H[None, :, :]
    D = np.sqrt((diff**2).sum(axis=-1))
    np.fill_diagonal(D, 0.0)
    return D
