"""SGFusion's attention-weighted fusion of zone updates (arXiv 2510.23455), flat vectors.

Zone ``z`` trains its model on its own users, giving the update ``g_z``, and its model on
each sampled zone ``z'``'s users, giving ``g_z'``. The attention of ``z'`` is
``e_z' = sigmoid(<g_z, g_z'>)``, the weights ``lambda = softmax over the sampled z' of e``,
and the new model ``w_z + g_z + sum_z' lambda_z' g_z'``.

The official code (``coordinator_selfatt.py``) adds only the last sampled zone's term
``lambda_last g_last``: the counter that should switch from assigning to accumulating the
sum is never incremented. ``official_last_only=True`` reproduces that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def attention_weights(own: torch.Tensor, partners: Sequence[torch.Tensor]) -> torch.Tensor:
    """Return ``softmax(sigmoid(<own, g>))`` over the partner updates, shape (m,), float64.

    Parameters
    ----------
    own
        The zone's own update ``g_z``, shape (P,).
    partners
        The updates ``g_z'`` of its model trained on each sampled zone, each shape (P,).
    """
    import torch

    if not partners:
        return torch.zeros(0, dtype=torch.float64)
    stacked = _stack(own, partners).to(torch.float64)
    scores = torch.sigmoid(stacked @ own.to(torch.float64))
    return torch.softmax(scores, dim=0)


def fused_model(
    weights: torch.Tensor,
    own: torch.Tensor,
    partners: Sequence[torch.Tensor],
    *,
    official_last_only: bool = False,
) -> torch.Tensor:
    """Return ``w_z + g_z + sum_z' lambda_z' g_z'``, shape (P,), in the dtype of ``weights``.

    Parameters
    ----------
    weights
        The zone's model before the round, ``w_z``, shape (P,).
    own
        Its update from its own users, ``g_z``, shape (P,).
    partners
        Its updates from the sampled zones' users, ``g_z'``, each shape (P,); none gives
        ``w_z + g_z``.
    official_last_only
        Add only the last partner's ``lambda g`` (the official code's behaviour).
    """
    if weights.shape != own.shape:
        raise ValueError(f"shapes differ: weights {tuple(weights.shape)}, "
                         f"own update {tuple(own.shape)}")
    out = weights + own
    if not partners:
        return out
    lam = attention_weights(own, partners).to(weights.dtype)
    stacked = _stack(own, partners).to(weights.dtype)
    if official_last_only:
        return out + lam[-1] * stacked[-1]
    return out + lam @ stacked


def _stack(own: torch.Tensor, partners: Sequence[torch.Tensor]) -> torch.Tensor:
    import torch

    for k, g in enumerate(partners):
        if g.shape != own.shape:
            raise ValueError(f"partner update {k} has shape {tuple(g.shape)}; the zone's own "
                             f"update has {tuple(own.shape)}")
    return torch.stack(list(partners))
