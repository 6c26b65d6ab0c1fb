"""Two models of one architecture trained as one job: a device's local copy and its personal model.

pFedMe (a local model ``w`` and a personal model ``theta``) and Ditto (the global model's
local update and the personal model ``v``) train two models on the same device in the same
update. A :class:`PairedModel` holds both, so that one training job carries them: its flat
state (:func:`simfl.learning.params.get_flat`) is the parameters of ``first``, those of
``second``, then the float buffers of each. :func:`pack_pair` and :func:`unpack_pair` convert
between that layout and the two models' own flat states.
"""

from __future__ import annotations

import torch
from torch import nn

from simfl.errors import SimflError


class PairedModel(nn.Module):
    """Two models of one architecture side by side; never called as a whole (no forward)."""

    def __init__(self, first: nn.Module, second: nn.Module) -> None:
        super().__init__()
        self.first = first
        self.second = second


def pack_pair(first: torch.Tensor, second: torch.Tensor, num_parameters: int) -> torch.Tensor:
    """Return the flat state of a :class:`PairedModel` from its two models' states, (2S,).

    ``first`` and ``second`` are flat states of shape (S,) (parameters, then buffers);
    ``num_parameters`` is P, the parameter part of S.
    """
    _check_state(first, second, num_parameters)
    p = num_parameters
    return torch.cat([first[:p], second[:p], first[p:], second[p:]])


def unpack_pair(packed: torch.Tensor, num_parameters: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the two models' flat states, each (S,), from a :class:`PairedModel` state (2S,)."""
    if packed.ndim != 1 or packed.numel() % 2 or packed.numel() < 2 * num_parameters:
        raise SimflError(f"unpack_pair: a paired state of shape {tuple(packed.shape)} does not "
                         f"hold two models of {num_parameters} parameters each")
    p, half = num_parameters, packed.numel() // 2
    buffers = half - p
    first = torch.cat([packed[:p], packed[2 * p : 2 * p + buffers]])
    second = torch.cat([packed[p : 2 * p], packed[2 * p + buffers :]])
    return first, second


def _check_state(first: torch.Tensor, second: torch.Tensor, num_parameters: int) -> None:
    if (first.ndim != 1 or first.shape != second.shape
            or not 0 <= num_parameters <= first.numel()):
        raise SimflError(f"pack_pair: states of shapes {tuple(first.shape)} and "
                         f"{tuple(second.shape)} are not two states of one architecture with "
                         f"{num_parameters} parameters")
