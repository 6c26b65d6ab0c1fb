"""Reading a fitted zone dendrogram: clusters, clades and agreement with a true hierarchy.

Used to check SGFusion's HRG (arXiv 2510.23455) against the hidden hierarchy of generated
data and to colour zone maps. Trees are nested two-element lists of zone names (as
:meth:`~.dendrogram.Dendrogram.to_nested` returns and the data generator's hierarchy is).
A *clade* is the set of leaves under an internal node; two trees over the same leaves are
equal exactly when they have the same clades.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram


def leaves(tree: Any) -> list[str]:
    """Return the leaf names of a nested tree, left to right."""
    if isinstance(tree, str):
        return [tree]
    return [name for child in tree for name in leaves(child)]


def restrict(tree: Any, keep: Collection[str]) -> Any:
    """Return ``tree`` with only the leaves in ``keep`` (nodes left with one child vanish).

    Returns None when no leaf is kept.
    """
    if isinstance(tree, str):
        return tree if tree in keep else None
    kept = [t for t in (restrict(child, keep) for child in tree) if t is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kept


def clades(tree: Any) -> set[frozenset[str]]:
    """Return the leaf sets of the internal nodes with at least 2 and fewer than all leaves.

    The root's clade (all leaves) is left out: every tree has it.
    """
    found: set[frozenset[str]] = set()

    def walk(node: Any) -> frozenset[str]:
        if isinstance(node, str):
            return frozenset([node])
        below = frozenset().union(*(walk(child) for child in node))
        found.add(below)
        return below

    everything = walk(tree)
    found.discard(everything)
    return found


def clade_recovery(fitted: Any, truth: Any) -> tuple[int, int]:
    """Return (clades of ``truth`` also in ``fitted``, clades of ``truth``) over shared leaves.

    ``truth`` is first restricted to the leaves of ``fitted``. Equal trees recover all of
    them (the complement of the normalised Robinson-Foulds distance for binary trees).
    """
    true_clades = clades(restrict(truth, set(leaves(fitted))))
    return len(true_clades & clades(fitted)), len(true_clades)


def group_recovery(fitted: Any, group_of: Mapping[str, str]) -> dict[str, bool]:
    """Return, for each group (e.g. country), whether its zones form one clade of ``fitted``.

    A group of one zone counts as recovered.
    """
    found = clades(fitted) | {frozenset(leaves(fitted))}
    out = {}
    for group in sorted(set(group_of.values())):
        members = frozenset(z for z, g in group_of.items() if g == group) & set(leaves(fitted))
        out[group] = len(members) <= 1 or members in found
    return out


def cut_clusters(tree: Dendrogram, d: np.ndarray, count: int) -> dict[str, int]:
    """Return ``{zone: cluster}``: the dendrogram cut into ``count`` subtrees.

    Starting from the root, the cluster whose node has the largest ``d_r`` is split into its
    two children until there are ``count`` clusters (or only leaves). Clusters are numbered
    left to right.
    """
    n = tree.n_zones
    d = np.asarray(d, dtype=float)
    parts = [tree.root]
    while len(parts) < min(count, n):
        internal = [p for p in parts if p >= n]
        if not internal:
            break
        split = max(internal, key=lambda p: d[p - n])
        at = parts.index(split)
        parts[at:at + 1] = list(tree.children(split))
    return {tree.names[leaf]: k for k, part in enumerate(parts)
            for leaf in tree.leaf_sets[part]}
