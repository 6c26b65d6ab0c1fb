"""Tests of SGFusion's attention-weighted fusion of zone updates."""

from __future__ import annotations

import pytest
import torch

from simfl.algorithms.geographic.fusion import attention_weights, fused_model

FLOAT_TOL = 1e-6


def test_attention_is_softmax_of_sigmoid_of_dot_products() -> None:
    own = torch.tensor([1.0, 0.0])
    partners = [torch.tensor([2.0, 5.0]), torch.tensor([-1.0, 3.0])]
    e = torch.sigmoid(torch.tensor([2.0, -1.0], dtype=torch.float64))
    expected = torch.exp(e) / torch.exp(e).sum()
    assert torch.allclose(attention_weights(own, partners), expected, atol=FLOAT_TOL)


def test_fused_model_adds_own_update_and_every_weighted_partner() -> None:
    w = torch.tensor([1.0, 1.0, 1.0])
    own = torch.tensor([0.1, 0.0, 0.0])
    partners = [torch.tensor([0.2, 0.0, 0.0]), torch.tensor([0.0, 0.3, 0.0]),
                torch.tensor([0.0, 0.0, -0.4])]
    lam = attention_weights(own, partners).float()
    expected = w + own + lam[0] * partners[0] + lam[1] * partners[1] + lam[2] * partners[2]
    assert torch.allclose(fused_model(w, own, partners), expected, atol=FLOAT_TOL)


def test_official_option_keeps_only_the_last_partner() -> None:
    w = torch.zeros(2)
    own = torch.tensor([1.0, 0.0])
    partners = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])]
    lam = attention_weights(own, partners).float()
    out = fused_model(w, own, partners, official_last_only=True)
    assert torch.allclose(out, own + lam[1] * partners[1], atol=FLOAT_TOL)


def test_no_partners_is_the_zone_alone() -> None:
    w = torch.tensor([0.5, -0.5])
    own = torch.tensor([0.1, 0.2])
    assert torch.equal(fused_model(w, own, []), w + own)
    assert attention_weights(own, []).numel() == 0


def test_result_keeps_the_model_dtype() -> None:
    w = torch.zeros(3, dtype=torch.float32)
    assert fused_model(w, torch.ones(3), [torch.ones(3)]).dtype == torch.float32


def test_mismatched_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="partner update 0 has shape"):
        fused_model(torch.zeros(3), torch.zeros(3), [torch.zeros(2)])
    with pytest.raises(ValueError, match="shapes differ"):
        fused_model(torch.zeros(3), torch.zeros(2), [])


def quadratic_step(w: torch.Tensor, target: torch.Tensor, lr: float = 0.1) -> torch.Tensor:
    """The update of one gradient step on 0.5 * ||w - target||^2."""
    return -lr * (w - target)


TARGET_AB = torch.tensor([1.0, 1.0])  # the optimum zones A and B share
TARGET_C = torch.tensor([-1.0, -1.0])  # zone C's optimum, opposite


def train_zone_a(partner_targets: list[torch.Tensor], rounds: int = 10) -> torch.Tensor:
    """Zone A's model after ``rounds`` of fusion with partners of the given optima."""
    w = torch.zeros(2)
    for _ in range(rounds):
        w = fused_model(w, quadratic_step(w, TARGET_AB),
                        [quadratic_step(w, t) for t in partner_targets])
    return w


def distance_to_optimum(w: torch.Tensor) -> float:
    return float(torch.linalg.norm(w - TARGET_AB))


def test_fusing_with_a_similar_zone_converges_faster_than_alone() -> None:
    assert distance_to_optimum(train_zone_a([TARGET_AB])) < distance_to_optimum(train_zone_a([]))


def test_fusing_with_an_opposite_zone_slows_it_down() -> None:
    # why the partners are drawn from the dendrogram: a dissimilar zone's update hurts
    assert distance_to_optimum(train_zone_a([TARGET_C])) > distance_to_optimum(train_zone_a([]))


def test_attention_prefers_the_aligned_update() -> None:
    w = torch.tensor([3.0, -2.0])
    own = quadratic_step(w, TARGET_AB, lr=1.0)
    lam = attention_weights(own, [quadratic_step(w, TARGET_AB, lr=1.0),
                                  quadratic_step(w, TARGET_C, lr=1.0)])
    assert lam[0] > lam[1]
    assert float(lam.sum()) == pytest.approx(1.0, abs=FLOAT_TOL)
