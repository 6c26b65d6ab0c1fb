"""Tests of simfl.learning.calibration: CCVR statistics, pooling, sampling, retraining."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.blocks import split_blocks
from simfl.learning.calibration import (
    calibrate_classifier,
    class_stats,
    features_of,
    pool_class_stats,
    sample_virtual_features,
    stats_payload_bytes,
)
from simfl.learning.training import TrainConfig

FLOAT64_TOL = 1e-10


def _features(seed: int, n: int, d: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(shift, 1.0 + shift, (n, d)), rng.integers(0, 3, n)


def test_client_stats_match_numpy_per_class() -> None:
    f, y = _features(0, 40, 4, 0.5)
    stats = class_stats(f, y, 3)
    for c in range(3):
        assert stats.counts[c] == (y == c).sum()
        np.testing.assert_allclose(stats.means[c], f[y == c].mean(axis=0), atol=FLOAT64_TOL)
        np.testing.assert_allclose(stats.covs[c], np.cov(f[y == c].T), atol=FLOAT64_TOL)


def test_pooled_stats_equal_numpy_on_all_features_together() -> None:
    parts = [_features(s, 30 + 10 * s, 4, shift=2.0 * s) for s in range(3)]
    pooled = pool_class_stats([class_stats(f, y, 3) for f, y in parts])
    f_all = np.concatenate([f for f, _ in parts])
    y_all = np.concatenate([y for _, y in parts])
    for c in range(3):
        assert pooled.counts[c] == (y_all == c).sum()
        np.testing.assert_allclose(pooled.means[c], f_all[y_all == c].mean(axis=0),
                                   atol=FLOAT64_TOL)
        np.testing.assert_allclose(pooled.covs[c], np.cov(f_all[y_all == c].T), atol=FLOAT64_TOL)


def test_official_formula_adds_the_second_moment_without_the_global_mean() -> None:
    parts = [_features(s, 25, 3, shift=1.0 + s) for s in range(2)]
    official = pool_class_stats([class_stats(f, y, 3) for f, y in parts], formula="official")
    c = 1
    n_total = sum((y == c).sum() for _, y in parts)
    expected = np.zeros((3, 3))
    for f, y in parts:
        fc = f[y == c]
        mu = fc.mean(axis=0)
        expected += (len(fc) - 1) / (n_total - 1) * np.cov(fc.T, bias=True)
        expected += len(fc) / (n_total - 1) * np.outer(mu, mu)
    np.testing.assert_allclose(official.covs[c], expected, atol=FLOAT64_TOL)


def test_a_class_seen_once_or_never_has_zero_covariance() -> None:
    f = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    stats = pool_class_stats([class_stats(f, np.array([0, 0, 1]), 3)])
    assert stats.counts.tolist() == [2, 1, 0]
    assert not stats.covs[1].any() and not stats.covs[2].any()


def test_virtual_features_follow_the_pooled_gaussians() -> None:
    f, y = _features(1, 300, 3, 1.0)
    stats = class_stats(f, y, 3)
    vx, vy = sample_virtual_features(stats, 20_000, np.random.default_rng(0))
    assert vx.shape == (60_000, 3) and vx.dtype == torch.float32
    sampling_tol = 0.05
    for c in range(3):
        xc = vx[vy == c].double().numpy()
        np.testing.assert_allclose(xc.mean(axis=0), stats.means[c], atol=sampling_tol)
        np.testing.assert_allclose(np.cov(xc.T), stats.covs[c], atol=sampling_tol * 2)


def test_sampling_is_seeded_and_skips_absent_classes() -> None:
    f = np.random.default_rng(0).normal(size=(4, 6))
    stats = class_stats(f, np.array([0, 0, 2, 2]), 3)  # rank-1 covariances in 6-D
    a = sample_virtual_features(stats, 5, np.random.default_rng(3))
    b = sample_virtual_features(stats, 5, np.random.default_rng(3))
    assert torch.equal(a[0], b[0])
    assert a[1].tolist() == [0] * 5 + [2] * 5


def test_calibration_fits_the_classifier_to_separable_virtual_features() -> None:
    means = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    f = np.concatenate([np.random.default_rng(c).normal(m, 0.5, (50, 2))
                        for c, m in enumerate(means)])
    y = np.repeat(np.arange(3), 50)
    vx, vy = sample_virtual_features(class_stats(f, y, 3), 200, np.random.default_rng(0))
    classifier = torch.nn.Linear(2, 3)
    torch.nn.init.zeros_(classifier.weight)
    result = calibrate_classifier(classifier, vx, vy, np.random.default_rng(1),
                                  TrainConfig(lr=0.1, epochs=3, batch_size=32))
    accuracy = (classifier(vx).argmax(dim=1) == vy).float().mean()
    assert result.num_samples == 600
    assert accuracy > 0.95


def test_features_of_uses_eval_mode_and_restores_it() -> None:
    model = split_blocks("resnet8", (3, 8, 8), 4, num_blocks=2, hidden=(2,), seed=0)
    running = [b.clone() for b in model.buffers()]
    x = torch.randn(6, 3, 8, 8)
    feats = features_of(model, x, batch_size=4)
    assert feats.shape == (6, 8) and not feats.requires_grad
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(running, model.buffers(), strict=True))


def test_payload_counts_the_upper_triangle_of_each_covariance() -> None:
    stats = class_stats(np.zeros((4, 5)), np.array([0, 1, 1, 3]), 10)
    assert stats_payload_bytes(stats) == 10 * (1 + 5 + 15) * 4


def test_labels_outside_the_classes_are_refused() -> None:
    with pytest.raises(SimflError, match=r"labels span 0\.\.5 but num_classes=3"):
        class_stats(np.zeros((2, 3)), np.array([0, 5]), 3)


def test_clients_with_different_feature_sizes_cannot_be_pooled() -> None:
    a = class_stats(np.zeros((2, 3)), np.array([0, 1]), 2)
    b = class_stats(np.zeros((2, 4)), np.array([0, 1]), 2)
    with pytest.raises(SimflError, match=r"sent \(classes, feature_dim\) \[\(2, 3\), \(2, 4\)\]"):
        pool_class_stats([a, b])
