"""Tests of the personalized local procedures against hand computations on a quadratic.

The model is a 2-parameter linear map on the unit vectors with targets t, trained with MSE
over both samples: f(w) = ||w - t||^2 / 2, grad f(w) = w - t (full batch), and a single-
sample minibatch k gives grad = 2 (w_k - t_k) on coordinate k only.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.params import get_flat, set_flat
from simfl.learning.personal_training import (
    personalize_perfedavg,
    train_perfedavg,
    train_pfedme,
)
from simfl.learning.training import TrainConfig, train_local

TOL = 1e-6  # absolute, parameter units
FEATURES = torch.eye(2)
TARGETS = torch.tensor([3.0, 0.0])
W0 = torch.tensor([1.0, -2.0])


def quadratic_model(w: torch.Tensor = W0) -> nn.Linear:
    model = nn.Linear(2, 1, bias=False)
    set_flat(model, w)
    return model


def full_batch(lr: float, steps: int = 1) -> TrainConfig:
    return TrainConfig(lr=lr, steps=steps, batch_size=2)


def test_train_local_prox_gradient_is_mu_times_distance_to_reference() -> None:
    # PerMFL's device step and Ditto's personal step: grad (w - t) + mu (w - ref)
    model = quadratic_model()
    ref, mu, lr = torch.tensor([0.0, 4.0]), 0.5, 0.1
    train_local(model, FEATURES, TARGETS, full_batch(lr), np.random.default_rng(0),
                task="regression", prox=(ref, mu))
    expected = W0 - lr * ((W0 - TARGETS) + mu * (W0 - ref))
    assert torch.allclose(get_flat(model), expected, atol=TOL)


def test_train_pfedme_matches_hand_computation() -> None:
    # theta: (1,-2) -> (1.2,-1.8) -> (1.34,-1.66); w -= 0.25*2*(w - theta) -> (1.17,-1.83)
    model, personal = quadratic_model(), quadratic_model()
    train_pfedme(model, personal, FEATURES, TARGETS, full_batch(0.25),
                 np.random.default_rng(0), lam=2.0, personal_lr=0.1, inner_steps=2,
                 task="regression")
    assert torch.allclose(get_flat(personal), torch.tensor([1.34, -1.66]), atol=TOL)
    assert torch.allclose(get_flat(model), torch.tensor([1.17, -1.83]), atol=TOL)


def test_train_pfedme_counts_k_passes_per_minibatch() -> None:
    model, personal = quadratic_model(), quadratic_model()
    cfg = TrainConfig(lr=0.1, steps=3, batch_size=2)
    result = train_pfedme(model, personal, FEATURES, TARGETS, cfg, np.random.default_rng(0),
                          lam=1.0, personal_lr=0.1, inner_steps=5, task="regression")
    assert (result.num_steps, result.samples_processed) == (3, 5 * 3 * 2)


def test_train_pfedme_is_deterministic_for_a_seed() -> None:
    outs = []
    for _ in range(2):
        model, personal = quadratic_model(), quadratic_model()
        train_pfedme(model, personal, FEATURES, TARGETS, TrainConfig(lr=0.2, epochs=3,
                     batch_size=1), np.random.default_rng(7), lam=1.0, personal_lr=0.1,
                     inner_steps=2, task="regression")
        outs.append(torch.cat([get_flat(model), get_flat(personal)]))
    assert torch.equal(outs[0], outs[1])


def test_train_pfedme_refuses_adam_and_a_shared_model() -> None:
    model = quadratic_model()
    with pytest.raises(SimflError, match="plain gradient steps; got optimizer='adam'"):
        train_pfedme(model, quadratic_model(), FEATURES, TARGETS,
                     TrainConfig(optimizer="adam", lr=1e-3), np.random.default_rng(0),
                     lam=1.0, personal_lr=0.1, inner_steps=1, task="regression")
    with pytest.raises(SimflError, match=r"training.loss 'rmse' is not supported here"):
        train_pfedme(model, quadratic_model(), FEATURES, TARGETS,
                     TrainConfig(lr=0.1, loss="rmse"), np.random.default_rng(0),
                     lam=1.0, personal_lr=0.1, inner_steps=1, task="regression")
    with pytest.raises(SimflError, match="two distinct model instances"):
        train_pfedme(model, model, FEATURES, TARGETS, full_batch(0.1),
                     np.random.default_rng(0), lam=1.0, personal_lr=0.1, inner_steps=1,
                     task="regression")


def test_train_perfedavg_full_batch_matches_hand_computation() -> None:
    # temp = w - a (w - t); w -= b (temp - t) = w - b (1 - a) (w - t)
    model = quadratic_model()
    alpha, beta = 0.1, 0.5
    result = train_perfedavg(model, FEATURES, TARGETS, full_batch(alpha),
                             np.random.default_rng(0), outer_lr=beta, task="regression")
    expected = W0 - beta * (1 - alpha) * (W0 - TARGETS)
    assert torch.allclose(get_flat(model), expected, atol=TOL)
    assert result.samples_processed == 4  # two full-batch passes


def test_train_perfedavg_takes_the_two_minibatches_of_a_step_from_different_samples() -> None:
    alpha, beta = 0.1, 0.5
    model = quadratic_model()
    train_perfedavg(model, FEATURES, TARGETS, TrainConfig(lr=alpha, steps=1, batch_size=1),
                    np.random.default_rng(3), outer_lr=beta, task="regression")
    first, second = (int(k) for k in np.random.default_rng(3).permutation(2))
    # batch 1 (sample `first`) moves only that coordinate; batch 2's gradient is taken at the
    # adapted point but only on coordinate `second`, which batch 1 left unchanged
    expected = W0.clone()
    expected[second] = W0[second] - beta * 2 * (W0[second] - TARGETS[second])
    assert first != second
    assert torch.allclose(get_flat(model), expected, atol=TOL)


def test_train_perfedavg_epochs_count_two_minibatches_per_step() -> None:
    x, y = torch.eye(5, 2), torch.zeros(5)
    model = nn.Linear(2, 1, bias=False)
    result = train_perfedavg(model, x, y, TrainConfig(lr=0.1, epochs=1, batch_size=2),
                             np.random.default_rng(0), outer_lr=0.1, task="regression")
    # 3 minibatches per epoch -> 2 steps of 2 minibatches: sizes 2, 2, 1, then 2 from epoch 2
    assert (result.num_steps, result.samples_processed) == (2, 7)


def test_personalize_perfedavg_takes_one_gradient_step() -> None:
    model = quadratic_model()
    result = personalize_perfedavg(model, FEATURES, TARGETS, full_batch(0.1, steps=9),
                                   np.random.default_rng(0), task="regression")
    assert torch.allclose(get_flat(model), W0 - 0.1 * (W0 - TARGETS), atol=TOL)
    assert (result.num_steps, result.samples_processed) == (1, 2)
