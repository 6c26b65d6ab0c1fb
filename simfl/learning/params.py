"""Flat model vectors and payload sizes: what a model update weighs on the wire.

A model's flat vector is its *state*: every parameter in module order, then every
floating-point buffer (BatchNorm running means and variances) in module order. Models without
buffers (logreg, MLP, CNN, GRU, LSTM) have only parameters, so for them the state is the
parameter vector. Integer buffers (BatchNorm's batch counter) are not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from simfl.errors import SimflError


def state_tensors(model: nn.Module) -> list[torch.Tensor]:
    """Return the tensors of the model's state: parameters, then floating-point buffers."""
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    return [*model.parameters(), *buffers]


def get_flat(model: nn.Module) -> torch.Tensor:
    """Return the model's state as one detached 1-D float32 tensor (a copy): every parameter
    in module order, then every floating-point buffer."""
    return torch.cat([t.detach().reshape(-1).to(torch.float32) for t in state_tensors(model)])


def set_flat(model: nn.Module, vec: torch.Tensor) -> None:
    """Copy the 1-D ``vec`` (from :func:`get_flat`) into the model's state in place."""
    tensors = state_tensors(model)
    total = sum(t.numel() for t in tensors)
    if vec.ndim != 1 or vec.numel() != total:
        raise SimflError(
            f"set_flat: vector of shape {tuple(vec.shape)} does not fit a model with {total} "
            "state values; pass a 1-D vector from get_flat of the same architecture"
        )
    offset = 0
    with torch.no_grad():
        for t in tensors:
            n = t.numel()
            t.copy_(vec[offset : offset + n].view_as(t))
            offset += n


def state_size(model: nn.Module) -> int:
    """Return the length of :func:`get_flat`'s vector: parameters plus float buffers."""
    return sum(t.numel() for t in state_tensors(model))


def num_parameters(model: nn.Module) -> int:
    """Return the number of scalar parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def payload_bytes(obj: nn.Module | torch.Tensor | Iterable[torch.Tensor]) -> int:
    """Return the size in bytes of the parameters/tensors: sum of numel * element size.

    A model counts its state (what :func:`get_flat` sends: parameters and float buffers); the
    element size follows each tensor's dtype, so a float16 vector weighs half of a float32 one.
    """
    if isinstance(obj, nn.Module):
        tensors: Iterable[torch.Tensor] = state_tensors(obj)
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
