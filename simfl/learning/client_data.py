"""A client's local data: its training shard and its own test data, as tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ClientData:
    """One client's local training data, ready for :func:`~simfl.learning.training.train_local`,
    and the test data its own (personalized) model is measured on.

    Attributes
    ----------
    name
        The client's node name (``client-<i>``).
    x, y
        Training features ``(n, *feature_shape)`` and labels ``(n,)`` or targets.
    labels
        ``y`` as a numpy array (label histograms, partitioning).
    test_x, test_y
        The client's own test data (see ``data.client_test`` in the scenario); None when it
        has none.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    labels: np.ndarray
    test_x: torch.Tensor | None = None
    test_y: torch.Tensor | None = None

    @property
    def num_samples(self) -> int:
        """Return the number of local training samples."""
        return int(self.y.shape[0])

    @property
    def num_test_samples(self) -> int:
        """Return the number of the client's own test samples."""
        return 0 if self.test_y is None else int(self.test_y.shape[0])
