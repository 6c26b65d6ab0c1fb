"""Tests of SGFusion's zone similarity: common bin edges, counts, DP noise, distances."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.algorithms.geographic.zone_similarity import (
    class_histogram,
    common_edges,
    count_histogram,
    frequencies,
    histogram_distances,
    laplace_noise,
)
from simfl.errors import SimflError

TOL = 1e-12


def test_common_edges_span_every_zones_values() -> None:
    edges = common_edges([np.array([60.0, 80.0]), np.array([[100.0, 180.0]])], 4)
    assert edges == pytest.approx([60.0, 90.0, 120.0, 150.0, 180.0], abs=TOL)


def test_common_edges_follow_a_given_range() -> None:
    assert common_edges([np.array([1.0])], 2, (30.0, 230.0)) == pytest.approx(
        [30.0, 130.0, 230.0], abs=TOL)


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(SimflError, match=r"low < high"):
        common_edges([np.array([1.0])], 10, (5.0, 5.0))


def test_counts_use_the_same_bins_for_every_zone() -> None:
    # two zones with all values in different halves of the common range never share a bin
    edges = common_edges([np.array([0.0, 1.0]), np.array([9.0, 10.0])], 10)
    a, b = count_histogram(np.array([0.0, 1.0]), edges), count_histogram(np.array([9.0, 10.0]),
                                                                         edges)
    assert a.sum() == b.sum() == 2.0
    assert float(a @ b) == 0.0


def test_values_outside_the_range_count_in_the_edge_bins() -> None:
    counts = count_histogram(np.array([-5.0, 0.5, 99.0]), np.array([0.0, 1.0, 2.0]))
    assert counts == pytest.approx([2.0, 1.0], abs=TOL)


def test_class_histogram_counts_every_class() -> None:
    assert class_histogram(np.array([2, 0, 2]), 4) == pytest.approx([1.0, 0.0, 2.0, 0.0])


def test_laplace_noise_has_scale_sensitivity_over_epsilon() -> None:
    rng = np.random.default_rng(0)
    noisy = laplace_noise(np.zeros(200_000), epsilon=2.0, sensitivity=10.0, rng=rng)
    # mean absolute deviation of Laplace(b) is b = 10 / 2
    assert np.mean(np.abs(noisy)) == pytest.approx(5.0, rel=0.02)


def test_epsilon_must_be_positive() -> None:
    with pytest.raises(SimflError, match=r"epsilon=0"):
        laplace_noise(np.zeros(3), 0.0, 1.0, np.random.default_rng(0))


def test_frequencies_drop_negative_noise_and_sum_to_one() -> None:
    f = frequencies(np.array([[3.0, -1.0, 1.0], [0.0, 0.0, 0.0]]))
    assert f[0] == pytest.approx([0.75, 0.0, 0.25], abs=TOL)
    assert f[1] == pytest.approx([1 / 3] * 3, abs=TOL)


def test_distances_are_euclidean_between_histograms() -> None:
    D = histogram_distances(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    assert pytest.approx(np.array([[0, 2**0.5, 0], [2**0.5, 0, 2**0.5],
                                        [0, 2**0.5, 0]]), abs=TOL) == D
