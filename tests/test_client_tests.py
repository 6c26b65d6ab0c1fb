"""Tests of simfl.learning.client_tests: each client's own test data."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.client_tests import (
    holdout_indices,
    label_pools,
    proportional_test_indices,
    proportional_test_size,
)


def test_proportional_draw_follows_the_clients_labels() -> None:
    test_labels = np.repeat(np.arange(10), 50)
    train = np.array([3] * 30 + [7] * 10)
    idx = proportional_test_indices(train, test_labels, 20, np.random.default_rng(0))
    counts = np.bincount(test_labels[idx], minlength=10)
    assert (counts[3], counts[7], counts.sum()) == (15, 5, 20)
    assert len(np.unique(idx)) == 20  # without replacement where the test set has enough


def test_proportional_draw_repeats_only_when_a_label_runs_out() -> None:
    test_labels = np.array([0, 0, 1])
    idx = proportional_test_indices(np.array([1, 1]), test_labels, 4, np.random.default_rng(0))
    assert list(test_labels[idx]) == [1, 1, 1, 1]


def test_regression_targets_draw_uniformly() -> None:
    idx = proportional_test_indices(np.array([0.5, 1.5]), np.linspace(0, 1, 30), 7,
                                    np.random.default_rng(0))
    assert len(np.unique(idx)) == 7


def test_test_size_is_the_clients_share_with_a_floor() -> None:
    assert proportional_test_size(40, 1000, 250, minimum=5) == 10
    assert proportional_test_size(4, 1000, 250, minimum=5) == 5


def test_holdout_keeps_a_quarter_per_label() -> None:
    labels = np.array([0] * 40 + [1] * 20)
    train, test = holdout_indices(labels, 0.25, np.random.default_rng(0))
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(60))
    assert (np.sum(labels[test] == 0), np.sum(labels[test] == 1)) == (10, 5)


def test_holdout_needs_two_samples() -> None:
    with pytest.raises(SimflError, match="a client with 1 sample cannot hold one out"):
        holdout_indices(np.array([3]), 0.25, np.random.default_rng(0))


def test_label_pools_are_each_labels_indices_in_order() -> None:
    labels = np.array([3, 1, 3, 0, 1, 3])
    pools = label_pools(labels)
    assert sorted(pools) == [0, 1, 3]
    for c, pool in pools.items():
        assert np.array_equal(pool, np.flatnonzero(labels == c))


def test_draws_from_label_pools_equal_draws_that_scan_the_test_set() -> None:
    rng = np.random.default_rng(0)
    test_labels = rng.integers(0, 5, 300)
    test_labels[test_labels == 4] = 2  # label 4 is absent from the test set
    for seed in range(20):
        train = rng.integers(0, 5, 12)
        scanned = proportional_test_indices(train, test_labels, 15, np.random.default_rng(seed))
        pooled = proportional_test_indices(train, test_labels, 15, np.random.default_rng(seed),
                                           label_pools(test_labels))
        assert np.array_equal(scanned, pooled)
