"""Classifier calibration with virtual representations (CCVR) for FuseFL's final model.

Luo et al., "No Fear of Heterogeneity: Classifier Calibration for Federated Learning with
Non-IID Data" (NeurIPS 2021), as used by FuseFL (Tang et al., arXiv 2410.20380) after the
last fusion: every client sends per-class counts, means and covariances of its features
under the fused model; the server pools them into global class-conditional Gaussians,
draws virtual features from them and retrains only the classifier.

Where simfl departs from the official FuseFL ``locals/ccvr.py``, and why:

- Pooling. The official code subtracts ``(labels_count[c] / labels_count[c] - 1) *
  mu mu^T``, which by operator precedence is 0 times the outer product of the global mean,
  so its "covariance" is a second moment about zero: far too wide, and dominated by the
  mean. simfl uses the exact pooled covariance (:func:`pool_class_stats`), which equals
  ``numpy.cov`` of all clients' features of the class together. ``formula="official"``
  reproduces the official numbers (for comparison with published results).
- Clients' covariances are unbiased (``ddof=1``) and combined with matching weights; the
  official code weights biased (``correction=0``) covariances by ``(n_m - 1) / (N - 1)``.
- Classes no client has are skipped when sampling (the official code divides 0 by 0 for
  their mean).
- Features are taken in eval mode (:func:`features_of`); the official code extracts them
  in train mode, so BatchNorm uses batch statistics and updates the running ones.
- Sampling uses the caller's numpy Generator and an eigendecomposition with negative
  round-off eigenvalues clipped to 0 (no global ``np.random``; no warnings on PSD matrices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.training import TrainConfig, TrainResult, train_local

FORMULAS: tuple[str, ...] = ("pooled", "official")

#: Official settings: 5000 virtual features per class, one epoch of plain SGD, batch 128, at
#: the clients' learning rate (0.01 by default).
OFFICIAL_SAMPLES_PER_CLASS = 5000
OFFICIAL_CALIBRATION = TrainConfig(optimizer="sgd", lr=0.01, epochs=1, batch_size=128)


@dataclass(frozen=True)
class ClassStats:
    """Per-class feature statistics of one client (or pooled over clients).

    Attributes
    ----------
    counts
        ``(C,)`` int64 samples per class.
    means
        ``(C, D)`` float64 class means (0 where the count is 0).
    covs
        ``(C, D, D)`` float64 unbiased class covariances (0 where the count is < 2).
    """

    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @property
    def num_classes(self) -> int:
        """Return C."""
        return int(self.counts.shape[0])

    @property
    def feature_dim(self) -> int:
        """Return D."""
        return int(self.means.shape[1])


def class_stats(
    features: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, num_classes: int
) -> ClassStats:
    """Return per-class counts, means ``(C, D)`` and unbiased covariances ``(C, D, D)``.

    ``features`` is ``(n, D)``, ``labels`` ``(n,)`` integers in ``[0, num_classes)``.
    """
    f = _as_numpy(features).astype(np.float64)
    y = _as_numpy(labels).astype(np.int64)
    if f.ndim != 2 or y.shape != (f.shape[0],):
        raise SimflError(
            f"class_stats: features {f.shape} and labels {y.shape} must be (n, D) and (n,); "
            "flatten the features first"
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise SimflError(
            f"class_stats: labels span {int(y.min())}..{int(y.max())} but num_classes="
            f"{num_classes}; labels must lie in 0..{num_classes - 1}"
        )
    d = f.shape[1]
    counts = np.bincount(y, minlength=num_classes).astype(np.int64)
    means = np.zeros((num_classes, d))
    covs = np.zeros((num_classes, d, d))
    for c in range(num_classes):
        fc = f[y == c]
        if len(fc):
            means[c] = fc.mean(axis=0)
        if len(fc) > 1:
            centred = fc - means[c]
            covs[c] = centred.T @ centred / (len(fc) - 1)
    return ClassStats(counts, means, covs)


def pool_class_stats(stats: Sequence[ClassStats], formula: str = "pooled") -> ClassStats:
    """Return the global per-class statistics from the clients' ``(count, mean, cov)``.

    ``formula="pooled"`` (default) is exact: with ``N = sum n_m`` and
    ``mu = sum n_m mu_m / N``,
    ``S = (sum (n_m - 1) S_m + sum n_m (mu_m - mu)(mu_m - mu)^T) / (N - 1)``, the unbiased
    covariance of all the clients' features of the class together. ``"official"``
    reproduces FuseFL's ``ccvr.py``: ``sum (n_m - 1)/(N - 1) B_m + n_m/(N - 1) mu_m mu_m^T``
    with biased client covariances ``B_m`` and no global-mean term.
    """
    if formula not in FORMULAS:
        raise SimflError(f"formula {formula!r} is unknown; use one of {', '.join(FORMULAS)}")
    if not stats:
        raise SimflError("pool_class_stats: no client statistics to pool")
    shapes = {(s.num_classes, s.feature_dim) for s in stats}
    if len(shapes) != 1:
        raise SimflError(
            f"pool_class_stats: clients sent (classes, feature_dim) {sorted(shapes)}; all "
            "must come from the same fused model and class list"
        )
    n_m = np.stack([s.counts for s in stats]).astype(np.float64)  # (M, C)
    mu_m = np.stack([s.means for s in stats])  # (M, C, D)
    s_m = np.stack([s.covs for s in stats])  # (M, C, D, D)
    total = n_m.sum(axis=0)  # (C,)
    mean = np.einsum("mc,mcd->cd", n_m, mu_m) / np.maximum(total, 1.0)[:, None]
    denom = np.maximum(total - 1.0, 1.0)[:, None, None]
    if formula == "pooled":
        within = np.einsum("mc,mcde->cde", np.maximum(n_m - 1.0, 0.0), s_m)
        dev = mu_m - mean[None]
        between = np.einsum("mc,mcd,mce->cde", n_m, dev, dev)
        cov = (within + between) / denom
    else:
        biased = s_m * (np.maximum(n_m - 1.0, 0.0) / np.maximum(n_m, 1.0))[..., None, None]
        within = np.einsum("mc,mcde->cde", n_m - 1.0, biased)
        second = np.einsum("mc,mcd,mce->cde", n_m, mu_m, mu_m)
        cov = (within + second) / denom
    cov[total < 2] = 0.0
    return ClassStats(total.astype(np.int64), mean, cov)


def sample_virtual_features(
    stats: ClassStats, per_class: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return virtual features ``(C' * per_class, D)`` float32 and their labels, int64.

    Draws ``per_class`` samples from ``N(mean_c, cov_c)`` for every class with a nonzero
    count (C' of them), class by class.
    """
    if per_class < 1:
        raise SimflError(f"sample_virtual_features: per_class={per_class} must be >= 1")
    xs, ys = [], []
    for c in np.flatnonzero(stats.counts > 0):
        cov = (stats.covs[c] + stats.covs[c].T) / 2.0
        eigval, eigvec = np.linalg.eigh(cov)
        factor = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
        z = rng.standard_normal((per_class, stats.feature_dim))
        xs.append(stats.means[c] + z @ factor.T)
        ys.append(np.full(per_class, c, dtype=np.int64))
    if not xs:
        raise SimflError("sample_virtual_features: every class count is 0; no features to draw")
    return (
        torch.from_numpy(np.concatenate(xs)).to(torch.float32),
        torch.from_numpy(np.concatenate(ys)),
    )


def calibrate_classifier(
    classifier: nn.Module,
    features: torch.Tensor,
    labels: torch.Tensor,
    rng: np.random.Generator,
    cfg: TrainConfig = OFFICIAL_CALIBRATION,
) -> TrainResult:
    """Retrain ``classifier`` in place on virtual ``features`` ``(n, D)`` and ``labels``.

    Only the classifier is touched (the fused blocks never see these features). ``rng``
    shuffles the minibatches; the default settings are the official ones.
    """
    return train_local(classifier, features, labels, cfg, rng)


def features_of(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Return ``model.features(x)`` computed in eval mode without gradients, ``(n, D)``.

    ``model`` is anything with a ``features`` method (a FusedModel, a BlockModel); its
    train/eval mode is restored afterwards.
    """
    extract = getattr(model, "features", None)
    if extract is None:
        raise SimflError(
            f"features_of: {type(model).__name__} has no features(x) method; pass a "
            "FusedModel or BlockModel"
        )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return torch.cat([extract(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


def stats_payload_bytes(stats: ClassStats, bytes_per_value: int = 4) -> int:
    """Return the bytes a client sends: per class a count, a mean (D) and a covariance.

    The covariance is symmetric, so its upper triangle (``D (D + 1) / 2`` values) is sent.
    """
    d = stats.feature_dim
    return stats.num_classes * (1 + d + d * (d + 1) // 2) * bytes_per_value


def _as_numpy(a: np.ndarray | torch.Tensor) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
