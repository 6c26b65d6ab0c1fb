"""Each client's own test data: drawn like its training labels, held out, or its own split.

Pure index arithmetic over numpy arrays; :mod:`simfl.scenario.datasets` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from simfl.errors import SimflError

_NONE = np.empty(0, dtype=np.int64)


def proportional_test_indices(
    train_labels: np.ndarray,
    test_labels: np.ndarray,
    size: int,
    rng: np.random.Generator,
    pools: Mapping[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Return ``size`` indices into the test set with the client's label proportions.

    Integer labels: label ``c`` gets its share ``size * p_c`` of the draws (largest
    remainders round), taken without replacement from the test samples of label ``c`` (with
    replacement only where the test set has too few). Float targets: a uniform draw without
    replacement. Sorted, shape (size,). ``pools`` (:func:`label_pools` of ``test_labels``)
    saves a scan of the test set per label when many clients draw.
    """
    if size < 1:
        raise SimflError(f"a client's test set needs at least one sample, got size={size}")
    if len(test_labels) == 0:
        raise SimflError("the global test set is empty; clients cannot draw test data from it")
    if not np.issubdtype(np.asarray(train_labels).dtype, np.integer):
        return np.sort(rng.choice(len(test_labels), size=min(size, len(test_labels)),
                                  replace=False))
    classes, counts = np.unique(train_labels, return_counts=True)
    share = counts / counts.sum() * size
    take = np.floor(share).astype(int)
    for k in np.argsort(-(share - take), kind="stable")[: size - int(take.sum())]:
        take[k] += 1
    picked = []
    for label, k in zip(classes, take, strict=True):
        if k == 0:
            continue
        pool = (np.flatnonzero(test_labels == label) if pools is None
                else pools.get(int(label), _NONE))
        if len(pool) == 0:
            pool = np.arange(len(test_labels))  # a label the test set lacks: any sample
        picked.append(rng.choice(pool, size=int(k), replace=bool(k > len(pool))))
    return np.sort(np.concatenate(picked))


def label_pools(test_labels: np.ndarray) -> dict[int, np.ndarray]:
    """Return each integer label's test indices, ascending (``flatnonzero(labels == c)``)."""
    order = np.argsort(test_labels, kind="stable")
    labels, starts = np.unique(test_labels[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    return {int(c): order[a:b] for c, a, b in zip(labels, starts, ends, strict=True)}


def proportional_test_size(num_train: int, total_train: int, total_test: int,
                           minimum: int) -> int:
    """Return a client's test size: its share of the global test set, at least ``minimum``."""
    return max(int(minimum), round(num_train * total_test / max(total_train, 1)))


def holdout_indices(labels: np.ndarray, fraction: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (train, test) indices of one client's shard with ``fraction`` held out for test.

    Each label keeps about the same share in both parts (at least one test sample overall,
    at least one training sample overall). Both sorted.
    """
    n = len(labels)
    if not 0.0 < fraction < 1.0:
        raise SimflError(f"holdout fraction {fraction} must be in (0, 1), e.g. 0.25")
    if n < 2:
        raise SimflError(f"a client with {n} sample cannot hold one out for testing; give "
                         "every client at least 2 samples or use another client_test")
    order = rng.permutation(n)
    if np.issubdtype(np.asarray(labels).dtype, np.integer):
        order = order[np.argsort(labels[order], kind="stable")]
        # every k-th sample of the label-sorted shuffle: a stratified holdout
        step = 1.0 / fraction
        test_pos = np.unique(np.floor(np.arange(0, n, step)).astype(int))
    else:
        test_pos = np.arange(int(np.ceil(fraction * n)))
    test_pos = test_pos[: n - 1]
    is_test = np.zeros(n, dtype=bool)
    is_test[test_pos] = True
    return np.sort(order[~is_test]), np.sort(order[is_test])
