"""Tests of simfl.learning.dataset and simfl.learning.builtin."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import DataError, SimflError
from simfl.learning.builtin import load_digits, synthetic_fedprox, synthetic_fedprox_shards
from simfl.learning.dataset import (
    Dataset,
    shuffle_split_indices,
    split_test_size,
    train_test_split,
)


def _toy(n: int = 20, classes: int = 2) -> Dataset:
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = (np.arange(n) % classes).astype(np.int64)
    return Dataset("toy", x, y, "classification", classes)


def test_len_and_feature_shape() -> None:
    ds = _toy()
    assert len(ds) == 20
    assert ds.feature_shape == (3,)


def test_subset_selects_rows_in_given_order() -> None:
    ds = _toy()
    sub = ds.subset(np.array([5, 1]))
    assert np.array_equal(sub.x, ds.x[[5, 1]])
    assert np.array_equal(sub.y, [1, 1])
    assert sub.name == ds.name and sub.num_classes == 2


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(DataError, match="x has 3 samples but y has 2"):
        Dataset("bad", np.zeros((3, 2), np.float32), np.zeros(2, np.int64), "classification", 2)


def test_label_out_of_range_is_rejected() -> None:
    with pytest.raises(DataError, match=r"must lie in \[0, 1\]"):
        Dataset("bad", np.zeros((2, 2), np.float32), np.array([0, 2]), "classification", 2)


def test_regression_needs_zero_classes() -> None:
    with pytest.raises(DataError, match="use 0"):
        Dataset("bad", np.zeros((2, 2), np.float32), np.zeros(2, np.float32), "regression", 3)


def test_split_is_stratified_and_disjoint() -> None:
    ds = _toy(100, classes=4)
    train, test = train_test_split(ds, 0.2, seed=0)
    assert len(train) == 80 and len(test) == 20
    assert np.bincount(test.y).tolist() == [5, 5, 5, 5]
    assert not set(train.x[:, 0].tolist()) & set(test.x[:, 0].tolist())


def test_split_depends_on_seed_only() -> None:
    ds = _toy(100, classes=4)
    a, _ = train_test_split(ds, 0.3, seed=1)
    b, _ = train_test_split(ds, 0.3, seed=1)
    c, _ = train_test_split(ds, 0.3, seed=2)
    assert np.array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_split_rejects_bad_fraction() -> None:
    with pytest.raises(SimflError, match=r"outside \(0, 1\)"):
        train_test_split(_toy(), 1.5, seed=0)


def test_digits_flat_and_image_shapes() -> None:
    flat, image = load_digits(), load_digits(image=True)
    assert flat.x.shape == (1797, 64) and image.x.shape == (1797, 1, 8, 8)
    assert flat.x.dtype == np.float32 and flat.y.dtype == np.int64
    assert flat.x.min() == 0.0 and flat.x.max() == 1.0
    assert np.array_equal(flat.x, image.x.reshape(1797, 64))
    assert flat.num_classes == 10 and set(flat.y.tolist()) == set(range(10))


def test_synthetic_shapes_and_label_range() -> None:
    clients = synthetic_fedprox(1.0, 1.0, 5, np.random.default_rng(0))
    assert len(clients) == 5
    for ds in clients:
        assert ds.x.shape[1] == 60 and ds.x.dtype == np.float32
        assert len(ds) >= 50
        assert ds.y.min() >= 0 and ds.y.max() <= 9
    assert clients[0].name == "synthetic(1,1)/client0"


def test_synthetic_is_deterministic_per_seed() -> None:
    a = synthetic_fedprox(0.5, 0.5, 3, np.random.default_rng(7))
    b = synthetic_fedprox(0.5, 0.5, 3, np.random.default_rng(7))
    c = synthetic_fedprox(0.5, 0.5, 3, np.random.default_rng(8))
    assert all(
        np.array_equal(p.x, q.x) and np.array_equal(p.y, q.y) for p, q in zip(a, b, strict=True)
    )
    assert not np.array_equal(a[0].x[:50], c[0].x[:50])


def test_synthetic_feature_covariance_is_j_power_minus_1_2() -> None:
    big = synthetic_fedprox(
        0.0, 0.0, 1, np.random.default_rng(1), samples_lognormal_sigma=0.0, min_samples=20000
    )[0]
    var = big.x.var(axis=0)
    expected = np.arange(1, 61) ** -1.2
    assert np.allclose(var, expected, rtol=0.05)


def _client_mean_spread(beta: float) -> float:
    clients = synthetic_fedprox(0.0, beta, 30, np.random.default_rng(3))
    means = np.stack([ds.x.mean(axis=0) for ds in clients])
    return float(means.mean(axis=1).std())


def test_synthetic_beta_spreads_feature_means() -> None:
    assert _client_mean_spread(2.0) > 3 * _client_mean_spread(0.0)


def test_synthetic_alpha_shifts_all_logits_equally_so_labels_do_not_change() -> None:
    # As in the FedProx generator, u_k is one scalar added to every entry of W_k and b_k:
    # every class logit moves by the same amount, so argmax (the label) is unchanged.
    low = synthetic_fedprox(0.0, 1.0, 4, np.random.default_rng(5))
    high = synthetic_fedprox(5.0, 1.0, 4, np.random.default_rng(5))
    assert all(np.array_equal(a.y, b.y) for a, b in zip(low, high, strict=True))


def test_synthetic_rejects_negative_alpha() -> None:
    with pytest.raises(SimflError, match="must be >= 0"):
        synthetic_fedprox(-1.0, 0.0, 3, np.random.default_rng(0))


def test_datasets_hash_and_compare_by_identity() -> None:
    a, b = _toy(), _toy()
    assert a == a and a != b
    assert len({a, b}) == 2


@pytest.mark.parametrize("n,fraction,seed", [(50, 0.2, 0), (51, 0.2, 7), (403, 0.25, 12),
                                             (1000, 0.1, 99)])
def test_shuffle_split_is_sklearns_unstratified_split(n: int, fraction: float,
                                                      seed: int) -> None:
    from sklearn.model_selection import train_test_split as sk_split

    want_train, want_test = sk_split(np.arange(n), test_size=fraction, random_state=seed)
    state = np.random.RandomState(12345)
    for got_train, got_test in (shuffle_split_indices(n, split_test_size(n, fraction), seed),
                                shuffle_split_indices(n, split_test_size(n, fraction), seed,
                                                      state)):
        assert np.array_equal(got_train, np.sort(want_train))
        assert np.array_equal(got_test, np.sort(want_test))


def test_synthetic_shards_are_the_datasets_drawn_lazily() -> None:
    whole = synthetic_fedprox(0.5, 1.0, 4, np.random.default_rng(2))
    counts, shards = synthetic_fedprox_shards(0.5, 1.0, 4, np.random.default_rng(2))
    assert counts.tolist() == [len(ds) for ds in whole]
    for ds, (x, y) in zip(whole, shards, strict=True):
        assert np.array_equal(ds.x, x) and np.array_equal(ds.y, y)


def test_fedprox_generation_restores_the_blas_threads() -> None:
    from threadpoolctl import threadpool_info

    from simfl.learning.builtin import one_blas_thread, synthetic_fedprox

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    synthetic_fedprox(0.5, 0.5, 3, np.random.default_rng(0))
    assert blas_threads() == before
    with pytest.raises(RuntimeError), one_blas_thread():
        assert set(blas_threads()) <= {1}
        raise RuntimeError("a failure inside the block")
    assert blas_threads() == before
