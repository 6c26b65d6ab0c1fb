"""Flat parameter vectors and payload sizes: what a model update weighs on the wire."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from simfl.errors import SimflError


def get_flat(model: nn.Module) -> torch.Tensor:
    """Return all parameters as one detached 1-D float32 tensor (a copy), in module order."""
    return torch.cat([p.detach().reshape(-1).to(torch.float32) for p in model.parameters()])


def set_flat(model: nn.Module, vec: torch.Tensor) -> None:
    """Copy the 1-D ``vec`` into the model's parameters in place (no autograd history)."""
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise SimflError(
            f"set_flat: vector of shape {tuple(vec.shape)} does not fit a model with {total} "
            "parameters; pass a 1-D vector from get_flat of the same architecture"
        )
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset : offset + n].view_as(p))
            offset += n


def num_parameters(model: nn.Module) -> int:
    """Return the number of scalar parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def payload_bytes(obj: nn.Module | torch.Tensor | Iterable[torch.Tensor]) -> int:
    """Return the size in bytes of the parameters/tensors: sum of numel * element size.

    A model counts its parameters (what :func:`get_flat` sends); the element size follows
    each tensor's dtype, so a float16 vector weighs half of a float32 one.
    """
    if isinstance(obj, nn.Module):
        tensors: Iterable[torch.Tensor] = obj.parameters()
    elif isinstance(obj, torch.Tensor):
        tensors = [obj]
    else:
        tensors = obj
    total = 0
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            raise SimflError(
                f"payload_bytes: got a {type(t).__name__}; pass a model, a tensor or a list "
                "of tensors"
            )
        total += t.numel() * t.element_size()
    return total
