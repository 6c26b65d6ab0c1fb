"""Tests of the zone dendrogram: structure, d_r, loss and the nested-list form."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.algorithms.geographic.dendrogram import Dendrogram, node_distances, tree_loss

ROUNDING = 1e-12  # float summation error, distance units
NAMES = ("a", "b", "c", "d")
# distances between the four zones a, b, c, d
D4 = np.array([
    [0.0, 1.0, 4.0, 5.0],
    [1.0, 0.0, 6.0, 7.0],
    [4.0, 6.0, 0.0, 2.0],
    [5.0, 7.0, 2.0, 0.0],
])


def balanced() -> Dendrogram:
    """((a, b), (c, d))."""
    return Dendrogram(((0, 1), (2, 3), (4, 5)), NAMES)


def caterpillar() -> Dendrogram:
    """(((a, b), c), d)."""
    return Dendrogram(((0, 1), (4, 2), (5, 3)), NAMES)


def test_d_r_of_a_balanced_tree_is_the_mean_distance_between_its_subtrees() -> None:
    expected = [1.0, 2.0, (4.0 + 5.0 + 6.0 + 7.0) / 4]
    assert node_distances(balanced(), D4) == pytest.approx(expected, abs=ROUNDING)
    assert tree_loss(balanced(), D4) == pytest.approx(1.0 + 2.0 + 5.5, abs=ROUNDING)


def test_d_r_of_a_caterpillar_tree_averages_over_unequal_subtrees() -> None:
    expected = [1.0, (4.0 + 6.0) / 2, (5.0 + 7.0 + 2.0) / 3]
    assert node_distances(caterpillar(), D4) == pytest.approx(expected, abs=ROUNDING)
    assert tree_loss(caterpillar(), D4) == pytest.approx(1.0 + 5.0 + 14.0 / 3, abs=ROUNDING)


def test_ancestors_run_from_the_parent_to_the_root() -> None:
    tree = caterpillar()
    assert tree.ancestors(0) == [4, 5, 6]
    assert tree.ancestors(3) == [6]
    assert tree.ancestors(tree.root) == []


def test_lca_of_zones_and_nodes() -> None:
    tree = balanced()
    assert tree.lca(0, 1) == 4
    assert tree.lca(1, 3) == 6
    assert tree.lca(4, 0) == 4
    assert tree.lca_index.tolist() == [[-1, 0, 2, 2], [0, -1, 2, 2], [2, 2, -1, 1], [2, 2, 1, -1]]


def test_leaf_sets_and_parents() -> None:
    tree = caterpillar()
    assert tree.leaf_sets[5] == (0, 1, 2)
    assert tree.leaf_sets[tree.root] == (0, 1, 2, 3)
    assert tree.parent.tolist() == [4, 4, 5, 6, 5, 6, -1]


def test_nested_round_trip_keeps_the_tree() -> None:
    tree = caterpillar()
    assert tree.to_nested() == [[["a", "b"], "c"], "d"]
    assert Dendrogram.from_nested(tree.to_nested(), NAMES) == tree


def test_canonical_renumbers_in_post_order() -> None:
    # the same tree as balanced(), merged in another order: (c, d) first
    other = Dendrogram(((2, 3), (0, 1), (5, 4)), NAMES)
    assert other.to_nested() == [["a", "b"], ["c", "d"]]
    assert other.canonical() == balanced()


def test_from_nested_takes_the_zone_order_from_names() -> None:
    tree = Dendrogram.from_nested([["d", "a"], ["b", "c"]], NAMES)
    assert tree.names == NAMES
    assert tree.merges == ((3, 0), (1, 2), (4, 5))


def test_single_zone_tree_has_no_internal_nodes() -> None:
    tree = Dendrogram((), ("only",))
    assert tree.to_nested() == "only"
    assert tree_loss(tree, np.zeros((1, 1))) == 0.0


@pytest.mark.parametrize("merges,message", [
    (((0, 1), (2, 3)), "need 3 merges"),
    (((0, 1), (1, 2), (4, 5)), "unused node id"),
    (((0, 5), (2, 3), (4, 1)), "unused node id below 4"),
])
def test_invalid_merges_are_rejected(merges: tuple[tuple[int, int], ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Dendrogram(merges, NAMES)


@pytest.mark.parametrize("nested,message", [
    ([["a", "b", "c"], "d"], "list of two trees"),
    ([["a", "b"], ["c", "c"]], "must be the zones"),
    ([["a", "b"], "c"], "must be the zones"),
])
def test_invalid_nested_trees_are_rejected(nested: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Dendrogram.from_nested(nested, NAMES)


def test_distance_matrix_must_match_the_tree() -> None:
    with pytest.raises(ValueError, match="shape"):
        node_distances(balanced(), np.zeros((3, 3)))
