"""The dendrogram of zones and its loss, as used by SGFusion's HRG (arXiv 2510.23455).

A dendrogram over ``n`` zones is a rooted binary tree whose leaves are the zones. Node ids
follow SciPy's linkage convention: leaves are ``0 .. n-1``; merge ``k`` (``0 <= k < n-1``)
joins two earlier nodes into the internal node ``n + k``; the root is ``2n - 2``. So a
list of merges lists children before parents, and "internal node k" means node ``n + k``.

For a distance matrix ``D`` between zones, internal node ``r`` with left leaves ``L_r`` and
right leaves ``R_r`` has ``d_r = mean over i in L_r, j in R_r of D[i, j]``; the loss of the
tree is ``L(T) = sum_r d_r`` (the quantity SGFusion's HRG fit minimises).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

Nested = str | list[Any]
"""A tree as nested lists: a leaf is a zone name, an internal node a two-element list."""


@dataclass(frozen=True)
class Dendrogram:
    """A rooted binary tree whose leaves are zones ``0 .. n-1`` (see the module docstring).

    Parameters
    ----------
    merges
        ``n - 1`` pairs ``(a, b)``: merge ``k`` makes node ``n + k`` with left child ``a``
        and right child ``b``; both are ids below ``n + k`` and every node but the root is
        a child exactly once.
    names
        The zone names, one per leaf, all different.
    """

    merges: tuple[tuple[int, int], ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.names)
        if n < 1:
            raise ValueError("a dendrogram needs at least one zone")
        if len(set(self.names)) != n:
            raise ValueError(f"zone names must be different, got {list(self.names)}")
        if len(self.merges) != n - 1:
            raise ValueError(f"{n} zones need {n - 1} merges, got {len(self.merges)}")
        seen: set[int] = set()
        for k, pair in enumerate(self.merges):
            for child in pair:
                if not 0 <= child < n + k or child in seen:
                    raise ValueError(f"merge {k} {pair}: child {child} must be an unused node "
                                     f"id below {n + k}")
                seen.add(child)

    @property
    def n_zones(self) -> int:
        """Return the number of leaves (zones)."""
        return len(self.names)

    @property
    def root(self) -> int:
        """Return the root's node id, ``2n - 2`` (``0`` for a single zone)."""
        return 2 * self.n_zones - 2

    def children(self, node: int) -> tuple[int, int]:
        """Return the (left, right) child ids of internal node id ``node``."""
        return self.merges[node - self.n_zones]

    @cached_property
    def parent(self) -> np.ndarray:
        """Parent id of every node, shape (2n-1,); the root's parent is -1."""
        parent = np.full(2 * self.n_zones - 1, -1, dtype=np.int64)
        for k, (a, b) in enumerate(self.merges):
            parent[a] = parent[b] = self.n_zones + k
        return parent

    @cached_property
    def leaf_sets(self) -> tuple[tuple[int, ...], ...]:
        """Sorted leaf ids under every node, indexed by node id (length 2n-1)."""
        sets: list[tuple[int, ...]] = [(i,) for i in range(self.n_zones)]
        for a, b in self.merges:
            sets.append(tuple(sorted(sets[a] + sets[b])))
        return tuple(sets)

    def ancestors(self, node: int) -> list[int]:
        """Return the internal node ids above ``node``, from its parent up to the root."""
        out: list[int] = []
        node = int(self.parent[node])
        while node >= 0:
            out.append(node)
            node = int(self.parent[node])
        return out

    def lca(self, a: int, b: int) -> int:
        """Return the id of the lowest common ancestor of nodes ``a`` and ``b``."""
        above = {a, *self.ancestors(a)}
        node = b
        while node not in above:
            node = int(self.parent[node])
        return node

    @cached_property
    def lca_index(self) -> np.ndarray:
        """Internal node index ``k`` of ``LCA(i, j)`` for every zone pair, shape (n, n).

        The diagonal is -1 (a zone has no proper common ancestor with itself).
        """
        n = self.n_zones
        out = np.full((n, n), -1, dtype=np.int64)
        sets = self.leaf_sets
        for k, (a, b) in enumerate(self.merges):
            out[np.ix_(sets[a], sets[b])] = k
            out[np.ix_(sets[b], sets[a])] = k
        return out

    def canonical(self) -> Dendrogram:
        """Return the same tree renumbered in post-order (left subtree, right subtree, node).

        Two dendrograms with the same nested form have the same canonical merges; every
        fit returns canonical trees, so ``d`` follows the order of :meth:`to_nested`.
        """
        return Dendrogram.from_nested(self.to_nested(), self.names)

    def to_nested(self) -> Nested:
        """Return the tree as nested two-element lists of zone names (a name for one zone)."""
        def build(node: int) -> Nested:
            if node < self.n_zones:
                return self.names[node]
            a, b = self.children(node)
            return [build(a), build(b)]
        return build(self.root)

    @classmethod
    def from_nested(cls, nested: Nested, names: Sequence[str] | None = None) -> Dendrogram:
        """Return the dendrogram of nested lists of zone names, merges in post-order.

        Parameters
        ----------
        nested
            A zone name, or a two-element list of nested trees.
        names
            The zone order (leaf ids); default: the names in the order they appear.

        Raises
        ------
        ValueError
            If a list does not have two elements, a leaf is not a string, a name repeats or
            the leaves are not exactly ``names``.
        """
        found: list[str] = []
        _collect(nested, found)
        order = list(names) if names is not None else found
        if sorted(found) != sorted(order) or len(set(found)) != len(found):
            raise ValueError(f"tree leaves {found} must be the zones {order}, each once")
        index = {name: i for i, name in enumerate(order)}
        merges: list[tuple[int, int]] = []

        def build(node: Nested) -> int:
            if isinstance(node, str):
                return index[node]
            a, b = build(node[0]), build(node[1])
            merges.append((a, b))
            return len(order) + len(merges) - 1

        build(nested)
        return cls(tuple(merges), tuple(order))


def _collect(node: object, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list | tuple) and len(node) == 2:
        _collect(node[0], out)
        _collect(node[1], out)
    else:
        raise ValueError(f"a tree node must be a zone name or a list of two trees, got {node!r}")


def node_distances(tree: Dendrogram, D: np.ndarray) -> np.ndarray:
    """Return ``d_r`` for every internal node, shape (n-1,), in merge order.

    ``d_r`` is the mean of ``D[i, j]`` over ``i`` in the left and ``j`` in the right leaves
    of internal node ``r`` (same unit as ``D``).
    """
    D = np.asarray(D, dtype=float)
    n = tree.n_zones
    if D.shape != (n, n):
        raise ValueError(f"distance matrix has shape {D.shape}; the tree has {n} zones")
    sets = tree.leaf_sets
    out = np.empty(n - 1)
    for k, (a, b) in enumerate(tree.merges):
        out[k] = D[np.ix_(sets[a], sets[b])].mean()
    return out


def tree_loss(tree: Dendrogram, D: np.ndarray) -> float:
    """Return the dendrogram loss ``L(T) = sum_r d_r`` (same unit as ``D``)."""
    return float(node_distances(tree, D).sum())
