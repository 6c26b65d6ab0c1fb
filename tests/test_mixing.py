"""Tests of FedMeld's pure mixing math."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from simfl.algorithms.space.mixing import disagreement, mix


def test_mix_is_the_convex_combination() -> None:
    out = mix(torch.tensor([0.0, 10.0]), torch.tensor([10.0, 0.0]), 0.3)
    assert torch.allclose(out, torch.tensor([3.0, 7.0]))


def test_alpha_zero_keeps_local_and_one_takes_carried() -> None:
    a, b = torch.randn(5), torch.randn(5)
    assert torch.equal(mix(a, b, 0.0), a)
    assert torch.allclose(mix(a, b, 1.0), b)


@given(st.floats(0.0, 1.0))
def test_mixing_shrinks_disagreement_between_two_models(alpha: float) -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(20, generator=gen), torch.randn(20, generator=gen)
    before = disagreement([a, b])
    after = disagreement([mix(a, b, alpha), b])
    assert after == pytest.approx(before * (1 - alpha) ** 2, rel=1e-4, abs=1e-6)
    assert after <= before + 1e-9


def test_mix_rejects_bad_alpha_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        mix(torch.zeros(2), torch.zeros(2), 1.5)
    with pytest.raises(ValueError, match="shapes differ"):
        mix(torch.zeros(2), torch.zeros(3), 0.5)


def test_disagreement_is_zero_for_equal_models() -> None:
    v = torch.randn(7)
    assert disagreement([v, v.clone(), v.clone()]) == pytest.approx(0.0, abs=1e-12)
