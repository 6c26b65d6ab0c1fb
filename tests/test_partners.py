"""Tests of the partner rules of SGFusion's baselines and of chi-SGFusion."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.algorithms.geographic.partners import (
    fixed_count_partners,
    marked_partners,
    threshold_partners,
    topk_partners,
)
from simfl.errors import SimflError

D = np.array([[0.0, 0.1, 0.3, 0.1],
              [0.1, 0.0, 0.2, 0.5],
              [0.3, 0.2, 0.0, 0.4],
              [0.1, 0.5, 0.4, 0.0]])


def test_threshold_keeps_zones_strictly_closer() -> None:
    assert threshold_partners(D, 0, 0.3).tolist() == [1, 3]


def test_threshold_never_picks_the_zone_itself() -> None:
    assert 2 not in threshold_partners(D, 2, 10.0).tolist()


def test_topk_takes_the_nearest_with_ties_to_the_lower_index() -> None:
    assert topk_partners(D, 0, 1).tolist() == [1]
    assert topk_partners(D, 2, 2).tolist() == [0, 1]


def test_topk_needs_a_positive_k() -> None:
    with pytest.raises(SimflError, match=r"k >= 1"):
        topk_partners(D, 0, 0)


def test_topk_never_crosses_an_infinite_distance() -> None:
    scoped = D.copy()
    scoped[0, 2:] = np.inf
    assert topk_partners(scoped, 0, 3).tolist() == [1]


def test_marked_partners_follow_the_matrix_without_the_zone() -> None:
    adjacent = np.array([[True, True, False], [True, False, True], [False, True, False]])
    assert marked_partners(adjacent, 0).tolist() == [1]


def test_fixed_count_draws_chi_distinct_zones_with_positive_weight() -> None:
    P = np.array([[0.0, 0.5, 0.0, 0.2, 0.3]])
    picks = [tuple(fixed_count_partners(P, 0, 2, np.random.default_rng(s))) for s in range(50)]
    assert all(len(set(p)) == 2 and 2 not in p and 0 not in p for p in picks)


def test_fixed_count_follows_the_weights() -> None:
    P = np.array([[0.0, 0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]])
    rng = np.random.default_rng(1)
    firsts = [1 in fixed_count_partners(P, 0, 1, rng) for _ in range(4000)]
    # one draw: zone 1 with probability 0.9 (binomial standard error 0.005)
    assert np.mean(firsts) == pytest.approx(0.9, abs=0.025)


def test_fixed_count_gives_fewer_when_fewer_zones_qualify() -> None:
    P = np.array([[0.0, 1.0, 0.0]])
    assert fixed_count_partners(P, 0, 3, np.random.default_rng(0)).tolist() == [1]
