"""Which zones a zone fuses with: SGFusion's baselines and its fixed-count variant.

SGFusion (arXiv 2510.23455) draws partners from the dendrogram (:mod:`.zone_sampling`); its
baselines choose them deterministically: zones whose areas touch (neighbours), zones whose
label histograms are closer than a threshold, the ``k`` nearest zones by histogram distance,
or every zone. chi-SGFusion draws a fixed number ``chi`` of partners, each draw weighted by
the dendrogram probabilities. Every function returns sorted zone indices, never the zone
itself.
"""

from __future__ import annotations

import numpy as np

from simfl.errors import SimflError


def threshold_partners(D: np.ndarray, zone: int, threshold: float) -> np.ndarray:
    """Return the zones whose distance to ``zone`` is below ``threshold``, shape (k,)."""
    picked = np.asarray(D[zone], dtype=np.float64) < threshold
    picked[zone] = False
    return np.flatnonzero(picked)


def topk_partners(D: np.ndarray, zone: int, k: int) -> np.ndarray:
    """Return the ``k`` zones nearest to ``zone`` (ties to the lower index), sorted, (k,).

    Zones at an infinite distance (another country) are never taken, so fewer may come back.
    """
    if k < 1:
        raise SimflError(f"top-k fusion needs k >= 1, got k={k}")
    row = np.asarray(D[zone], dtype=np.float64)
    order = [int(j) for j in np.argsort(row, kind="stable") if j != zone and np.isfinite(row[j])]
    return np.sort(np.asarray(order[:k], dtype=np.int64))


def marked_partners(marked: np.ndarray, zone: int) -> np.ndarray:
    """Return the zones marked True in row ``zone`` of a boolean matrix (areas that touch,
    zones of the same country), without ``zone`` itself, shape (k,)."""
    picked = np.asarray(marked[zone], dtype=bool).copy()
    picked[zone] = False
    return np.flatnonzero(picked)


def fixed_count_partners(P: np.ndarray, zone: int, chi: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Return ``chi`` distinct zones drawn with weights ``P[zone]`` (without replacement).

    Fewer when fewer zones have a positive weight. One ``rng.choice`` call per zone.
    """
    if chi < 1:
        raise SimflError(f"chi-SGFusion needs chi >= 1 partners per round, got chi={chi}")
    weights = np.asarray(P[zone], dtype=np.float64).copy()
    weights[zone] = 0.0
    candidates = np.flatnonzero(weights > 0)
    if len(candidates) == 0:
        return candidates
    take = min(chi, len(candidates))
    p = weights[candidates] / weights[candidates].sum()
    return np.sort(rng.choice(candidates, size=take, replace=False, p=p))
