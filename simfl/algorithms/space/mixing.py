"""Store-carry-forward mixing math (FedMeld): pure functions over parameter vectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def mix(local: torch.Tensor, carried: torch.Tensor, alpha: float) -> torch.Tensor:
    """Return ``(1 - alpha) * local + alpha * carried``, shape (P,), FedMeld's mixing rule.

    Raises
    ------
    ValueError
        If ``alpha`` is outside [0, 1] or the shapes differ.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"mixing ratio alpha must be in [0, 1], got {alpha}")
    if local.shape != carried.shape:
        raise ValueError(f"shapes differ: {tuple(local.shape)} vs {tuple(carried.shape)}")
    return (1.0 - alpha) * local + alpha * carried


def disagreement(models: list[torch.Tensor]) -> float:
    """Return the mean squared distance of the models to their mean (0 when all agree)."""
    import torch

    stacked = torch.stack(models)
    return float(((stacked - stacked.mean(0)) ** 2).sum(1).mean())
