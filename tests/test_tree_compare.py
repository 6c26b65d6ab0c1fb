"""Tests of reading zone dendrograms: clades, restriction, recovery of a true tree, cuts."""

from __future__ import annotations

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram
from simfl.algorithms.geographic.tree_compare import (
    clade_recovery,
    clades,
    cut_clusters,
    group_recovery,
    leaves,
    restrict,
)

TRUTH = [[["a", "b"], "c"], [["d", "e"], "f"]]


def test_leaves_are_listed_left_to_right() -> None:
    assert leaves(TRUTH) == ["a", "b", "c", "d", "e", "f"]


def test_clades_leave_out_the_root_and_single_leaves() -> None:
    assert clades([["a", "b"], "c"]) == {frozenset("ab")}


def test_restrict_drops_leaves_and_collapses_their_parents() -> None:
    assert restrict(TRUTH, {"a", "c", "d", "e"}) == [["a", "c"], ["d", "e"]]
    assert restrict(TRUTH, set()) is None


def test_a_tree_recovers_all_of_itself() -> None:
    assert clade_recovery(TRUTH, TRUTH) == (4, 4)


def test_recovery_counts_shared_clades_over_shared_leaves() -> None:
    fitted = [[["a", "b"], ["c", "d"]], "e"]  # lacks f; truth restricted: ((a,b),c),(d,e)
    assert clade_recovery(fitted, TRUTH) == (1, 3)


def test_group_recovery_says_which_groups_form_a_subtree() -> None:
    country = {"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": "z"}
    fitted = [[["a", "b"], "d"], [["c", "e"], "f"]]
    assert group_recovery(fitted, country) == {"x": False, "y": False, "z": True}
    assert all(group_recovery(TRUTH, {**country, "f": "y"}).values())


def test_cut_splits_the_node_of_largest_d_first() -> None:
    tree = Dendrogram.from_nested(TRUTH)
    # merge order (post-order): (a,b), ((a,b),c), (d,e), ((d,e),f), root
    d = np.array([0.1, 0.2, 0.1, 0.5, 0.9])
    assert cut_clusters(tree, d, 3) == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "f": 2}
    assert set(cut_clusters(tree, d, 1).values()) == {0}
