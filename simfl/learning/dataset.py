"""In-memory labelled datasets and a seeded train/test split.

A :class:`Dataset` is a pair of numpy arrays (features, labels or targets) with a name and a
task. Partitioners hand out index arrays; :meth:`Dataset.subset` turns them into client data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simfl.errors import DataError, SimflError

TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features ``x`` (float32, shape ``(n, *feature_shape)``) and labels/targets ``y``.

    Compared and hashed by identity (arrays have no single truth value).

    Parameters
    ----------
    name
        Human-readable name, e.g. ``"digits"`` or ``"synthetic(1,1)/client3"``.
    x
        float32 features, shape ``(n, *feature_shape)``: ``(n, 64)``, ``(n, 1, 8, 8)``,
        ``(n, seq, feat)``.
    y
        int64 class labels in ``[0, num_classes)`` (classification), shape ``(n,)``, or
        float32 targets (regression), shape ``(n,)`` or ``(n, steps)`` (one per time step).
    task
        ``"classification"`` or ``"regression"``.
    num_classes
        Number of classes; 0 for regression.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    task: Literal["classification", "regression"]
    num_classes: int

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.task not in TASKS:
            problems.append(
                f"dataset {self.name!r}: task {self.task!r} is unknown; use one of {TASKS}"
            )
        if self.x.ndim < 2:
            problems.append(
                f"dataset {self.name!r}: x has shape {self.x.shape}; it must be "
                "(n, *feature_shape) with at least one feature axis"
            )
        y_ndims = (1, 2) if self.task == "regression" else (1,)
        if self.y.ndim not in y_ndims:
            shapes = "(n,) or (n, steps)" if self.task == "regression" else "(n,)"
            problems.append(f"dataset {self.name!r}: y has shape {self.y.shape}; it must be "
                            f"{shapes}")
        elif self.x.shape[0] != self.y.shape[0]:
            problems.append(
                f"dataset {self.name!r}: x has {self.x.shape[0]} samples but y has "
                f"{self.y.shape[0]}; they must match"
            )
        if self.task == "classification":
            if self.num_classes < 1:
                problems.append(
                    f"dataset {self.name!r}: num_classes={self.num_classes} but a "
                    "classification dataset needs at least 1 class"
                )
            elif self.y.size and (self.y.min() < 0 or self.y.max() >= self.num_classes):
                problems.append(
                    f"dataset {self.name!r}: labels span [{self.y.min()}, {self.y.max()}] "
                    f"but must lie in [0, {self.num_classes - 1}]"
                )
        elif self.task == "regression" and self.num_classes != 0:
            problems.append(
                f"dataset {self.name!r}: num_classes={self.num_classes} for a regression "
                "dataset; use 0"
            )
        if problems:
            raise DataError(problems)

    def __len__(self) -> int:
        """Return the number of samples."""
        return int(self.x.shape[0])

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one sample's features (``x.shape[1:]``)."""
        return tuple(int(d) for d in self.x.shape[1:])

    def subset(self, indices: np.ndarray) -> Dataset:
        """Return the samples at ``indices`` (a copy) as a new :class:`Dataset`, same name."""
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(self.name, self.x[idx], self.y[idx], self.task, self.num_classes)


def train_test_split(
    ds: Dataset, test_fraction: float, seed: int, stratify: bool = True
) -> tuple[Dataset, Dataset]:
    """Return ``(train, test)`` datasets split with ``sklearn``'s seeded splitter.

    Parameters
    ----------
    ds
        The dataset to split.
    test_fraction
        Fraction of samples that go to the test set, in ``(0, 1)``.
    seed
        ``random_state`` for sklearn: the same seed gives the same split.
    stratify
        For classification, keep class proportions equal in both parts (ignored for
        regression).
    """
    n = len(ds)
    n_test = split_test_size(n, test_fraction)
    if not (stratify and ds.task == "classification"):
        train_idx, test_idx = shuffle_split_indices(n, n_test, seed)
        return ds.subset(train_idx), ds.subset(test_idx)
    from sklearn.model_selection import train_test_split as sk_split

    try:
        train_idx, test_idx = sk_split(
            np.arange(n), test_size=test_fraction, random_state=seed, stratify=ds.y
        )
    except ValueError as exc:
        raise SimflError(
            f"cannot split dataset {ds.name!r} ({n} samples) with stratification: {exc}; "
            "pass stratify=False or use a larger test_fraction"
        ) from exc
    return ds.subset(np.sort(train_idx)), ds.subset(np.sort(test_idx))


def split_test_size(n: int, test_fraction: float) -> int:
    """Return how many of ``n`` samples a ``test_fraction`` split tests on: ``ceil(f n)``.

    Raises :class:`~simfl.errors.SimflError` when the fraction is outside (0, 1) or leaves
    an empty train or test part.
    """
    if not 0.0 < test_fraction < 1.0:
        raise SimflError(
            f"test_fraction={test_fraction} is outside (0, 1); use e.g. 0.2 for a 20% test set"
        )
    n_test = math.ceil(test_fraction * n)
    if n_test < 1 or n - n_test < 1:
        raise SimflError(
            f"test_fraction={test_fraction} of {n} samples leaves an empty train or test set; "
            "use a larger dataset or a test_fraction nearer 0.5"
        )
    return n_test


def shuffle_split_indices(
    n: int, n_test: int, seed: int, state: np.random.RandomState | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, test) indices of a seeded shuffle split of ``n`` samples.

    The same split as scikit-learn's unstratified ``train_test_split(random_state=seed)``
    (a ``RandomState(seed)`` permutation whose first ``n_test`` entries are the test part),
    without its per-call validation, which dominated building 10,000 synthetic clients.
    ``state``, when given, is reseeded with ``seed`` and used instead of a new
    ``RandomState`` (the same numbers; reseeding costs 50x less than creating one).
    int64, shapes ``(n - n_test,)`` and ``(n_test,)``.
    """
    if state is None:
        state = np.random.RandomState(seed)
    else:
        state.seed(seed)
    order = state.permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
