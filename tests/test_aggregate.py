"""Tests of the pure aggregation math."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from simfl.algorithms.aggregate import aggregation_flops, weighted_average


def test_weighted_average_weights_by_samples() -> None:
    a, b = torch.tensor([0.0, 10.0]), torch.tensor([4.0, 2.0])
    out = weighted_average([a, b], [1, 3])
    assert torch.allclose(out, torch.tensor([3.0, 4.0]))


@given(st.lists(st.floats(-100, 100), min_size=1, max_size=8),
       st.lists(st.integers(1, 50), min_size=8, max_size=8))
def test_weighted_average_of_equal_vectors_is_that_vector(vals: list[float], ws: list[int]) -> None:
    v = torch.tensor(vals, dtype=torch.float32)
    out = weighted_average([v.clone() for _ in ws], ws)
    assert torch.allclose(out, v, atol=1e-4)


def test_weighted_average_stays_in_convex_hull() -> None:
    vs = [torch.randn(50, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    out = weighted_average(vs, [1, 2, 3, 4, 5])
    stacked = torch.stack(vs)
    assert torch.all(out <= stacked.max(0).values + 1e-6)
    assert torch.all(out >= stacked.min(0).values - 1e-6)


def test_weighted_average_rejects_empty_and_mismatched() -> None:
    with pytest.raises(ValueError, match="at least one"):
        weighted_average([], [])
    with pytest.raises(ValueError, match="2 vectors but 1 weights"):
        weighted_average([torch.zeros(2), torch.zeros(2)], [1])
    with pytest.raises(ValueError, match="sum to > 0"):
        weighted_average([torch.zeros(2)], [0])


def test_aggregation_flops_is_one_multiply_add_per_parameter_per_model() -> None:
    assert aggregation_flops(1000, 10) == 20_000
