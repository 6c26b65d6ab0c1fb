"""Drawing fusion partners from the zone dendrogram (SGFusion, arXiv 2510.23455).

SGFusion turns the fitted dendrogram into a probabilistic one per zone: over the ancestors
``r`` of zone ``z`` (from its parent up to the root), ``p_r = softmax(-d_r)``, so closer
ancestors (small ``d_r``) weigh more. Every other zone ``z'`` then gets the probability of
their lowest common ancestor, ``P[z, z'] = p_{LCA(z, z')}``, and each round ``z`` fuses with
every ``z'`` drawn independently with that probability (never with itself), afresh each
round. Zones joined low in the tree are drawn often; each ancestor's probability is shared
by every zone in its other subtree, so the expected number of partners, ``sum_z' P[z, z']``,
is a handful even for many zones.
"""

from __future__ import annotations

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram


def ancestor_probabilities(tree: Dendrogram, d: np.ndarray, zone: int) -> np.ndarray:
    """Return ``softmax(-d_r)`` over the ancestors of ``zone``, parent first, shape (depth,)."""
    ancestors = np.asarray(tree.ancestors(zone), dtype=np.int64) - tree.n_zones
    scores = -np.asarray(d, dtype=float)[ancestors]
    if scores.size == 0:  # a single zone has no ancestors
        return scores
    weights = np.exp(scores - scores.max())
    return weights / weights.sum()


def lca_probabilities(tree: Dendrogram, d: np.ndarray) -> np.ndarray:
    """Return ``P[z, z'] = p_{LCA(z, z')}`` for zone ``z``'s own softmax, shape (n, n).

    Row ``z`` uses the softmax over ``z``'s ancestors, so ``P`` is not symmetric; the
    diagonal is 0. ``d`` holds ``d_r`` per internal node in merge order, shape (n-1,).
    """
    n = tree.n_zones
    d = np.asarray(d, dtype=float)
    if d.shape != (n - 1,):
        raise ValueError(f"d must have one value per internal node, shape ({n - 1},); "
                         f"got {d.shape}")
    P = np.zeros((n, n))
    lca = tree.lca_index
    for z in range(n):
        by_node = np.zeros(max(n - 1, 1))
        ancestors = np.asarray(tree.ancestors(z), dtype=np.int64) - n
        by_node[ancestors] = ancestor_probabilities(tree, d, z)
        others = np.arange(n) != z
        P[z, others] = by_node[lca[z, others]]
    return P


def expected_partners(P: np.ndarray) -> np.ndarray:
    """Return the expected number of partners each zone draws per round, shape (n,)."""
    return np.asarray(P, dtype=float).sum(axis=1)


def sample_partners(P: np.ndarray, zone: int, rng: np.random.Generator) -> np.ndarray:
    """Return the zones ``zone`` fuses with this round, sorted ids, shape (k,).

    Each other zone ``z'`` is included independently with probability ``P[zone, z']``
    (one uniform draw per zone, in zone order); ``zone`` itself never is.
    """
    draws = rng.random(P.shape[1])
    picked = draws < P[zone]
    picked[zone] = False
    return np.flatnonzero(picked)


def sample_round(P: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Return every zone's partners for one round, in zone order (see :func:`sample_partners`)."""
    return [sample_partners(P, z, rng) for z in range(P.shape[0])]
