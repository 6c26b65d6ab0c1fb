"""Aggregation math: pure functions over flat parameter vectors (Flower's aggregate.py).

Each takes and returns float32 tensors of shape (P,) and never touches SimPy or a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def weighted_average(vectors: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """Return ``sum_i w_i v_i / sum_i w_i``, shape (P,), the FedAvg aggregate.

    Raises
    ------
    ValueError
        If there are no vectors, lengths differ, or the weights are not positive in total.
    """
    import torch

    if not vectors:
        raise ValueError("weighted_average needs at least one vector")
    if len(vectors) != len(weights):
        raise ValueError(f"{len(vectors)} vectors but {len(weights)} weights")
    total = float(sum(weights))
    if not total > 0:
        raise ValueError(f"weights must sum to > 0, got {total}")
    stacked = torch.stack(list(vectors))
    w = torch.tensor([float(x) / total for x in weights], dtype=stacked.dtype)
    return w @ stacked


def aggregation_flops(num_parameters: int, num_models: int) -> float:
    """Return the FLOPs of a weighted average of ``num_models`` vectors (a multiply-add each)."""
    return 2.0 * float(num_parameters) * float(num_models)
