"""Tests of simfl.learning.partition."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.partition import (
    partition_dirichlet,
    partition_groups,
    partition_iid,
    partition_labels_per_client,
)

LABELS = np.repeat(np.arange(10), 100)  # 1000 samples, 10 balanced classes


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _assert_disjoint(parts: list[np.ndarray]) -> np.ndarray:
    merged = np.concatenate(parts)
    assert merged.dtype == np.int64
    assert np.unique(merged).size == merged.size
    return merged


def _mean_label_entropy_bits(parts: list[np.ndarray]) -> float:
    entropies = []
    for p in parts:
        freq = np.bincount(LABELS[p], minlength=10) / p.size
        freq = freq[freq > 0]
        entropies.append(float(-(freq * np.log2(freq)).sum()))
    return float(np.mean(entropies))


def test_iid_sizes_differ_by_at_most_one_and_cover_all() -> None:
    parts = partition_iid(LABELS[:997], 7, _rng())
    sizes = [p.size for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert np.array_equal(np.sort(_assert_disjoint(parts)), np.arange(997))


def test_iid_is_deterministic_given_rng_seed() -> None:
    a, b = partition_iid(LABELS, 5, _rng(3)), partition_iid(LABELS, 5, _rng(3))
    c = partition_iid(LABELS, 5, _rng(4))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_iid_accepts_float_targets() -> None:
    parts = partition_iid(np.linspace(0, 1, 10), 2, _rng())
    assert [p.size for p in parts] == [5, 5]


def test_iid_rejects_more_clients_than_samples() -> None:
    with pytest.raises(SimflError, match="11 clients but only 10 samples"):
        partition_iid(np.zeros(10, np.int64), 11, _rng())


def test_dirichlet_assigns_every_sample_once() -> None:
    parts = partition_dirichlet(LABELS, 8, 0.5, _rng())
    assert np.array_equal(np.sort(_assert_disjoint(parts)), np.arange(LABELS.size))


def test_dirichlet_small_alpha_is_more_skewed_than_large() -> None:
    skewed = partition_dirichlet(LABELS, 10, 0.1, _rng(1))
    near_iid = partition_dirichlet(LABELS, 10, 100.0, _rng(1))
    assert _mean_label_entropy_bits(skewed) < 2.0
    assert _mean_label_entropy_bits(near_iid) > 3.1  # log2(10) = 3.32 is perfectly uniform


def test_dirichlet_respects_min_samples_per_client() -> None:
    parts = partition_dirichlet(LABELS, 20, 0.3, _rng(2), min_samples_per_client=10)
    assert min(p.size for p in parts) >= 10


def test_dirichlet_is_deterministic_given_rng_seed() -> None:
    a = partition_dirichlet(LABELS, 6, 0.5, _rng(9))
    b = partition_dirichlet(LABELS, 6, 0.5, _rng(9))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_dirichlet_rejects_nonpositive_alpha() -> None:
    with pytest.raises(SimflError, match=r"alpha=0.0 must be > 0"):
        partition_dirichlet(LABELS, 4, 0.0, _rng())


def test_dirichlet_gives_up_with_advice_when_min_samples_unreachable() -> None:
    with pytest.raises(SimflError, match="raise alpha"):
        partition_dirichlet(LABELS[:60], 30, 0.001, _rng(), min_samples_per_client=2)


def test_dirichlet_rejects_impossible_min_samples() -> None:
    with pytest.raises(SimflError, match="needs 2000 samples but there are 1000"):
        partition_dirichlet(LABELS, 20, 1.0, _rng(), min_samples_per_client=100)


def test_labels_per_client_gives_exactly_k_labels() -> None:
    parts = partition_labels_per_client(LABELS, 7, 3, _rng())
    assert [np.unique(LABELS[p]).size for p in parts] == [3] * 7
    _assert_disjoint(parts)


def test_labels_per_client_spreads_labels_evenly() -> None:
    parts = partition_labels_per_client(LABELS, 10, 2, _rng(5))
    holders = np.bincount(np.concatenate([np.unique(LABELS[p]) for p in parts]), minlength=10)
    assert holders.tolist() == [2] * 10
    # Each label's 100 samples are shared equally by its 2 holders.
    assert sorted({p.size for p in parts}) == [100]


def test_labels_per_client_consecutive_gives_device_u_labels_u_and_u_plus_one() -> None:
    # the pFedMe/PerMFL MNIST split: device u holds u mod 10 and (u + 1) mod 10
    parts = partition_labels_per_client(LABELS, 12, 2, _rng(), consecutive=True)
    assert [np.unique(LABELS[p]).tolist() for p in parts] == [
        sorted({u % 10, (u + 1) % 10}) for u in range(12)]
    _assert_disjoint(parts)


def test_labels_per_client_rejects_k_above_num_classes() -> None:
    with pytest.raises(SimflError, match="has 10 distinct labels; use a value from 1 to 10"):
        partition_labels_per_client(LABELS, 5, 11, _rng())


def test_labels_per_client_rejects_too_many_holders_for_a_label() -> None:
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    with pytest.raises(SimflError, match="label 0 has 2 samples but 3 clients must share it"):
        partition_labels_per_client(labels, 6, 1, _rng())


def test_groups_clients_see_only_their_group_labels() -> None:
    parts = partition_groups(LABELS, [[0, 1, 2], [3, 4]], [2, 3], _rng())
    assert len(parts) == 5
    for p in parts[:2]:
        assert set(LABELS[p].tolist()) <= {0, 1, 2}
    for p in parts[2:]:
        assert set(LABELS[p].tolist()) <= {3, 4}
    assert sum(p.size for p in parts[:2]) == 300
    assert max(p.size for p in parts[2:]) - min(p.size for p in parts[2:]) <= 1


def test_groups_share_a_label_listed_twice_without_duplicates() -> None:
    parts = partition_groups(LABELS, [[0, 1], [1, 2]], 1, _rng())
    _assert_disjoint(parts)
    assert [p.size for p in parts] == [150, 150]


def test_groups_rejects_unknown_labels_and_count_mismatch() -> None:
    with pytest.raises(SimflError, match=r"labels \[42\] that the data does not have") as info:
        partition_groups(LABELS, [[0, 42], [1]], [1, 2, 3], _rng())
    assert "give one count per group" in str(info.value)
