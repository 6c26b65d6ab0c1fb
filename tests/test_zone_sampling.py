"""Tests of SGFusion's partner sampling: p_LCA from the dendrogram and per-round draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simfl.algorithms.geographic.dendrogram import Dendrogram
from simfl.algorithms.geographic.zone_sampling import (
    ancestor_probabilities,
    expected_partners,
    lca_probabilities,
    sample_partners,
    sample_round,
)

PROB_TOL = 1e-12
NAMES = ("a", "b", "c", "d", "e")
# (((a, b), c), (d, e)) with d_r per internal node in merge order
TREE = Dendrogram(((0, 1), (5, 2), (3, 4), (6, 7)), NAMES)
D_R = np.array([0.1, 0.3, 0.2, 0.6])


def test_ancestor_probabilities_are_a_softmax_of_minus_d() -> None:
    weights = np.exp(-np.array([0.1, 0.3, 0.6]))
    assert ancestor_probabilities(TREE, D_R, 0) == pytest.approx(weights / weights.sum(),
                                                                abs=PROB_TOL)


def test_each_zone_gets_the_probability_of_its_lca() -> None:
    P = lca_probabilities(TREE, D_R)
    za = np.exp(-np.array([0.1, 0.3, 0.6]))
    za /= za.sum()
    assert P[0] == pytest.approx([0.0, za[0], za[1], za[2], za[2]], abs=PROB_TOL)
    zd = np.exp(-np.array([0.2, 0.6]))
    zd /= zd.sum()
    assert P[3] == pytest.approx([zd[1], zd[1], zd[1], 0.0, zd[0]], abs=PROB_TOL)


def test_probabilities_are_per_zone_not_symmetric() -> None:
    P = lca_probabilities(TREE, D_R)
    assert np.all(np.diag(P) == 0.0)
    assert P[0, 3] != pytest.approx(P[3, 0], abs=PROB_TOL)


def test_distinct_ancestor_probabilities_sum_to_one_per_zone() -> None:
    P = lca_probabilities(TREE, D_R)
    for z in range(5):
        lca = TREE.lca_index[z]
        by_node = {int(lca[j]): P[z, j] for j in range(5) if j != z}
        assert sum(by_node.values()) == pytest.approx(1.0, abs=PROB_TOL)


def test_d_must_have_one_value_per_internal_node() -> None:
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        lca_probabilities(TREE, D_R[:3])


def test_sampling_frequencies_match_p_lca() -> None:
    P = lca_probabilities(TREE, D_R)
    rng = np.random.default_rng(2024)
    rounds = 20_000
    counts = np.zeros((5, 5))
    for _ in range(rounds):
        for z, partners in enumerate(sample_round(P, rng)):
            counts[z, partners] += 1
    freq = counts / rounds
    sigma = np.sqrt(P * (1.0 - P) / rounds)
    assert np.all(np.abs(freq - P) <= 5.0 * sigma + PROB_TOL)  # 5 binomial standard deviations


def test_a_zone_never_samples_itself() -> None:
    P = np.full((3, 3), 1.0)  # even a (bad) non-zero diagonal is ignored
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert 1 not in sample_partners(P, 1, rng).tolist()


def test_mean_number_of_partners_is_the_expected_count() -> None:
    P = lca_probabilities(TREE, D_R)
    rng = np.random.default_rng(7)
    rounds = 20_000
    total = sum(len(sample_partners(P, 0, rng)) for _ in range(rounds))
    expected = expected_partners(P)[0]
    var = float((P[0] * (1.0 - P[0])).sum())
    assert abs(total / rounds - expected) <= 5.0 * math.sqrt(var / rounds)


def test_same_seed_same_partners() -> None:
    P = lca_probabilities(TREE, D_R)
    first = sample_round(P, np.random.default_rng(3))
    again = sample_round(P, np.random.default_rng(3))
    assert [p.tolist() for p in first] == [p.tolist() for p in again]


def test_expected_partners_sum_rows() -> None:
    P = lca_probabilities(TREE, D_R)
    assert expected_partners(P) == pytest.approx(P.sum(axis=1), abs=PROB_TOL)


def test_a_single_zone_has_no_partners() -> None:
    tree = Dendrogram((), ("alone",))
    P = lca_probabilities(tree, np.zeros(0))
    assert P.tolist() == [[0.0]]
    assert sample_partners(P, 0, np.random.default_rng(0)).size == 0
