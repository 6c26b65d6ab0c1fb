"""Tests of simfl.learning.sequences: feature scaling and the train/test split of workouts."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning import sequences
from simfl.learning.sequences import FeatureScaling, split_indices

RTOL = 1e-6


def test_scaling_z_scores_each_feature() -> None:
    x = np.random.default_rng(0).normal([5.0, -3.0, 100.0], [2.0, 0.5, 30.0], (40, 7, 3))
    scaling = FeatureScaling.fit(x.astype(np.float32))
    scaled = scaling.apply(x)
    assert scaled.dtype == np.float32 and scaled.shape == x.shape
    assert np.allclose(scaled.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-5)
    assert np.allclose(scaled.reshape(-1, 3).std(axis=0), 1.0, atol=1e-5)


def test_chunked_fit_equals_the_whole_array(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(1).normal(size=(50, 3))
    whole = FeatureScaling.fit(x)
    monkeypatch.setattr(sequences, "CHUNK_ROWS", 7)
    chunked = FeatureScaling.fit(x)
    assert np.allclose(whole.mean, chunked.mean, rtol=RTOL)
    assert np.allclose(whole.std, chunked.std, rtol=RTOL)
    assert np.allclose(whole.apply(x), chunked.apply(x), rtol=RTOL)


def test_constant_feature_keeps_unit_std_and_z_multiple_scales() -> None:
    x = np.stack([np.ones(10), np.arange(10.0)], axis=1)
    scaling = FeatureScaling.fit(x, z_multiple=5.0)
    assert scaling.std[0] == 1.0
    assert np.std(scaling.apply(x)[:, 1]) == pytest.approx(5.0, rel=RTOL)


def test_split_keeps_both_parts_non_empty_and_disjoint() -> None:
    rng = np.random.default_rng(2)
    train, test = split_indices(2, 0.1, rng)
    assert len(train) == len(test) == 1
    train, test = split_indices(10, 0.25, rng)
    assert len(test) == 2 and sorted([*train, *test]) == list(range(10))


def test_split_is_seeded() -> None:
    a = split_indices(20, 0.3, np.random.default_rng(5))
    b = split_indices(20, 0.3, np.random.default_rng(5))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_split_needs_two_items_and_a_fraction() -> None:
    with pytest.raises(SimflError, match="cannot split 1 workouts"):
        split_indices(1, 0.5, np.random.default_rng(0))
    with pytest.raises(SimflError, match=r"test_fraction=1.0 is outside \(0, 1\)"):
        split_indices(5, 1.0, np.random.default_rng(0))
