"""The dendrogram of least loss, exactly, by dynamic programming over zone subsets.

SGFusion (arXiv 2510.23455) fits its HRG by MCMC; for a few zones the true optimum can be
computed instead. The loss ``sum_r d_r`` splits over subtrees: the best tree on a zone set
``S`` is a split ``S = A + B`` at the root plus the best trees on ``A`` and on ``B``, so

    best(S) = min over splits of best(A) + best(B) + cross(A, B) / (|A| |B|)

with ``cross(A, B)`` the sum of ``D`` over ``A x B``. Visiting every split of every subset
costs about ``3^n / 2`` evaluations (43 million at 16 zones), done here in vectorised
numpy chunks, one subset size at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram

T = TypeVar("T")

EXACT_MAX_ZONES = 18
"""Most zones :func:`exact_tree` accepts (3^18 / 2 splits, about a minute)."""

_CHUNK_ELEMENTS = 1 << 20  # splits evaluated per numpy chunk (bounds memory to ~50 MB)


def exact_tree(D: np.ndarray, names: Sequence[str]) -> Dendrogram:
    """Return a dendrogram of least loss ``sum_r d_r`` over all trees on the zones.

    Parameters
    ----------
    D
        Symmetric distance matrix between zones, shape (n, n), zero diagonal.
    names
        Zone names, length n.

    Returns
    -------
    Dendrogram
        A tree of least loss (ties go to the first split found), in canonical post-order.

    Raises
    ------
    ValueError
        If there are more than :data:`EXACT_MAX_ZONES` zones (the work grows as 3^n).
    """
    D = np.asarray(D, dtype=float)
    n = D.shape[0]
    if n > EXACT_MAX_ZONES:
        raise ValueError(f"exact fit of {n} zones needs about 3^{n}/2 = {3**n // 2:.3g} "
                         f"evaluations; it is limited to {EXACT_MAX_ZONES} zones, use mcmc")
    if n == 1:
        return Dendrogram((), tuple(names))
    _best, split = best_splits(D, np.ones(n))
    zone_names = list(names)
    return Dendrogram.from_nested(nested_split(split, (1 << n) - 1, zone_names.__getitem__),
                                  zone_names).canonical()


def best_splits(cross: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the least loss and its root split for every subset of ``m`` blocks of zones.

    Parameters
    ----------
    cross
        ``cross[a, b]``: sum of the distances between the zones of blocks ``a`` and ``b``,
        shape (m, m) (the diagonal is ignored). Blocks are single zones for a whole fit,
        or fixed subtrees when a window of a larger tree is re-solved.
    sizes
        Number of zones in each block, shape (m,).

    Returns
    -------
    best, split
        Both shape (2^m,), indexed by bit set of blocks: the least loss of a tree over that
        set (counting only the internal nodes that join blocks), and the bit set of one
        side of its root (the side holding the set's lowest block; 0 for single blocks).
    """
    m = cross.shape[0]
    within = _subset_sums(cross)
    weight = np.zeros(1 << m)
    for b in range(m):
        weight[1 << b: 2 << b] = weight[: 1 << b] + sizes[b]
    count = np.bitwise_count(np.arange(1 << m, dtype=np.uint32)).astype(np.int64)
    best = np.zeros(1 << m)
    split = np.zeros(1 << m, dtype=np.int64)
    for k in range(2, m + 1):
        _solve_size(k, m, count, within, weight, best, split)
    return best, split


def nested_split(split: np.ndarray, subset: int, leaf: Callable[[int], T]) -> T | list[Any]:
    """Return the tree of ``split`` over the bit set ``subset``; ``leaf(b)`` is block ``b``."""
    if subset & (subset - 1) == 0:
        return leaf(subset.bit_length() - 1)
    a = int(split[subset])
    return [nested_split(split, a, leaf), nested_split(split, subset ^ a, leaf)]


def _subset_sums(cross: np.ndarray) -> np.ndarray:
    """Return ``W[S] = sum over ordered pairs a != b in S of cross[a, b]`` for every bit set."""
    m = cross.shape[0]
    within = np.zeros(1 << m)
    for b in range(1, m):
        low = 1 << b
        to_lower = np.zeros(low)  # sum of cross[b, a] over a in each subset of 0 .. b-1
        for a in range(b):
            to_lower[1 << a: 2 << a] = to_lower[: 1 << a] + cross[b, a]
        within[low: 2 * low] = within[:low] + 2.0 * to_lower
    return within


def _solve_size(k: int, m: int, count: np.ndarray, within: np.ndarray, weight: np.ndarray,
                best: np.ndarray, split: np.ndarray) -> None:
    """Fill ``best`` and ``split`` for every subset of ``k`` blocks (smaller ones are done)."""
    subsets = np.flatnonzero(count == k)
    members = (subsets[:, None] >> np.arange(m)) & 1
    positions = np.nonzero(members)[1].reshape(len(subsets), k)
    bit_values = np.left_shift(1, positions).astype(np.int64)  # (C, k)
    # Splits A | B with A holding the subset's lowest block: odd patterns t, not all ones.
    patterns = np.arange(1, (1 << k) - 1, 2, dtype=np.int64)
    pattern_bits = (patterns[:, None] >> np.arange(k)) & 1  # (T, k)
    chunk = max(1, _CHUNK_ELEMENTS // len(patterns))
    for start in range(0, len(subsets), chunk):
        s = subsets[start:start + chunk]
        a = pattern_bits @ bit_values[start:start + chunk].T  # (T, c) bit sets A
        b = s[None, :] - a
        cross = 0.5 * (within[s][None, :] - within[a] - within[b])
        weight_a = weight[a]
        cost = best[a] + best[b] + cross / (weight_a * (weight[s][None, :] - weight_a))
        pick = np.argmin(cost, axis=0)
        cols = np.arange(len(s))
        best[s] = cost[pick, cols]
        split[s] = a[pick, cols]
