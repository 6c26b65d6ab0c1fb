"""Fit SGFusion's hierarchical random graph (HRG): the dendrogram of zones of least loss.

SGFusion (arXiv 2510.23455) organises zones in a dendrogram whose internal nodes ``r``
carry ``d_r``, the mean distance between the zones of their two subtrees, and fits it by
minimising ``L(T) = sum_r d_r`` with Clauset's fitHRG MCMC. Three methods give one
:class:`HrgFit`:

- ``exact``: dynamic programming over zone subsets, the true optimum (3^n work, about a
  second at 16 zones; :mod:`.hrg_exact`);
- ``mcmc``: the paper's subtree-rearrangement MCMC made to converge (annealing, restarts,
  a stopping rule; :mod:`.hrg_mcmc`), started from average linkage, so never worse;
- ``average_linkage``: UPGMA, whose merge height is exactly ``d_r`` (a start and a floor).

``auto`` (the default) is ``exact`` up to :data:`AUTO_EXACT_MAX_ZONES` zones, else ``mcmc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram, node_distances
from simfl.algorithms.geographic.distance_files import check_matrix
from simfl.algorithms.geographic.hrg_exact import EXACT_MAX_ZONES, exact_tree
from simfl.algorithms.geographic.hrg_mcmc import AnnealSchedule, SearchTrace, mcmc_tree
from simfl.errors import SimflError

METHODS = ("auto", "exact", "mcmc", "average_linkage")
"""Accepted values of ``fit_hrg(method=...)``."""

AUTO_EXACT_MAX_ZONES = 16
"""``auto`` solves exactly up to this many zones (about a second), by MCMC above."""


@dataclass(frozen=True)
class HrgFit:
    """A fitted dendrogram of zones.

    Attributes
    ----------
    tree
        The dendrogram, canonical (merges in post-order of :meth:`Dendrogram.to_nested`).
    d
        ``d_r`` of every internal node, shape (n-1,), in merge order (distance units).
    loss
        ``sum(d)``, the loss the fit minimised.
    method
        ``exact``, ``mcmc`` or ``average_linkage`` (what ran, after resolving ``auto``).
    trace
        The MCMC's per-sweep trace; ``None`` for the other methods.
    """

    tree: Dendrogram
    d: np.ndarray
    loss: float
    method: str
    trace: SearchTrace | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Return the zone names, in leaf-id order."""
        return self.tree.names


def average_linkage_tree(D: np.ndarray, names: Sequence[str]) -> Dendrogram:
    """Return the average-linkage (UPGMA) dendrogram of ``D``, canonical."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if len(names) < 2:
        return Dendrogram((), tuple(names))
    Z = linkage(squareform(np.asarray(D, dtype=float), checks=False), method="average")
    merges = tuple((int(a), int(b)) for a, b in Z[:, :2])
    return Dendrogram(merges, tuple(names)).canonical()


def fit_hrg(
    D: np.ndarray,
    names: Sequence[str] | None = None,
    method: str = "auto",
    seed: int | np.random.Generator = 0,
    schedule: AnnealSchedule | None = None,
) -> HrgFit:
    """Return the fitted dendrogram of the zones with distance matrix ``D``.

    Parameters
    ----------
    D
        Symmetric distance matrix between zones, shape (n, n), zero diagonal, finite and
        non-negative.
    names
        Zone names, length n (default ``"0" .. "n-1"``).
    method
        ``auto``, ``exact``, ``mcmc`` or ``average_linkage`` (see the module docstring).
    seed
        Seed or numpy Generator of the MCMC's random choices (ignored by the others).
    schedule
        MCMC temperatures, stopping rule and restarts (default :class:`AnnealSchedule`).

    Raises
    ------
    SimflError
        If the method is unknown, ``exact`` is asked for too many zones, or ``D`` is not a
        valid distance matrix (every problem listed).
    """
    D = np.asarray(D, dtype=float)
    zone_names = tuple(names) if names is not None else tuple(str(i) for i in range(len(D)))
    check_matrix(D, zone_names)
    if method not in METHODS:
        raise SimflError(f"HRG fit method {method!r} is unknown; choose one of "
                         f"{', '.join(METHODS)}")
    n = len(zone_names)
    if method == "exact" and n > EXACT_MAX_ZONES:
        raise SimflError(f"the exact HRG fit is limited to {EXACT_MAX_ZONES} zones (its work "
                         f"grows as 3^n); {n} zones given: use method mcmc")
    if method == "auto":
        method = "exact" if n <= AUTO_EXACT_MAX_ZONES else "mcmc"
    trace = None
    if method == "exact":
        tree = exact_tree(D, zone_names)
    elif method == "average_linkage":
        tree = average_linkage_tree(D, zone_names)
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        tree, trace = mcmc_tree(D, average_linkage_tree(D, zone_names), rng, schedule)
    d = node_distances(tree, D)
    return HrgFit(tree=tree, d=d, loss=float(d.sum()), method=method, trace=trace)
