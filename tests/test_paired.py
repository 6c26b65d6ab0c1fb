"""Tests of simfl.learning.paired: two models' states in one job's flat state."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.paired import PairedModel, pack_pair, unpack_pair
from simfl.learning.params import get_flat, set_flat


def with_buffers() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def test_pack_pair_is_the_paired_models_flat_state() -> None:
    first, second = with_buffers(), with_buffers()
    # 12 parameters (linear 6 + 2, batch norm 2 + 2), then 4 float buffers (mean, variance)
    set_flat(first, torch.arange(16.0))
    set_flat(second, -torch.arange(16.0))
    pair = PairedModel(first, second)
    assert torch.equal(pack_pair(get_flat(first), get_flat(second), 12), get_flat(pair))


def test_unpack_pair_inverts_pack_pair() -> None:
    a, b = torch.arange(10.0), 100 + torch.arange(10.0)
    first, second = unpack_pair(pack_pair(a, b, 8), 8)
    assert torch.equal(first, a) and torch.equal(second, b)


def test_pair_of_different_shapes_is_refused() -> None:
    with pytest.raises(SimflError, match=r"shapes \(3,\) and \(4,\)"):
        pack_pair(torch.zeros(3), torch.zeros(4), 3)
    with pytest.raises(SimflError, match="does not hold two models of 4 parameters"):
        unpack_pair(torch.zeros(7), 4)
