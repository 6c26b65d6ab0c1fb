"""Tests of PerMFL's and the personalized baselines' server rules (hand computations)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from simfl.algorithms.personalized.rules import (
    average,
    hsgd_step,
    permfl_global_step,
    permfl_team_step,
    pfedme_server_step,
)
from simfl.errors import SimflError
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import TrainConfig, train_local

TOL = 1e-6  # absolute, parameter units (float32 arithmetic on numbers of order 1)


def vec(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_average_plain_counts_each_vector_once() -> None:
    out = average([vec(2, 4), vec(4, 0)], sample_counts=[1, 3])
    assert torch.allclose(out, vec(3, 2), atol=TOL)


def test_average_by_samples_weights_each_vector_by_its_count() -> None:
    out = average([vec(2, 4), vec(4, 0)], sample_counts=[1, 3], weighting="samples")
    assert torch.allclose(out, vec(3.5, 1.0), atol=TOL)


def test_average_by_samples_needs_one_count_per_vector() -> None:
    with pytest.raises(SimflError, match="one sample count per vector; got 1 counts for 2"):
        average([vec(1, 1), vec(2, 2)], sample_counts=[5], weighting="samples")


def test_average_refuses_unknown_weighting_and_no_vectors() -> None:
    with pytest.raises(SimflError, match="weighting 'median' is unknown"):
        average([vec(1, 1)], weighting="median")  # type: ignore[arg-type]
    with pytest.raises(SimflError, match="no vectors"):
        average([])


def test_permfl_team_step_matches_hand_computation() -> None:
    # lam*(w - theta_bar) = 2*(-2, 2); gamma*(w - x_old) = (1, -1); w - 0.1*(-3, 3)
    out = permfl_team_step(vec(1, 1), vec(3, -1), vec(0, 2), team_lr=0.1, lam=2.0, gamma=1.0)
    assert torch.allclose(out, vec(1.3, 0.7), atol=TOL)


def test_permfl_team_step_refuses_negative_coefficients() -> None:
    with pytest.raises(SimflError, match=r"lam=-1\.0 must be >= 0"):
        permfl_team_step(vec(1), vec(1), vec(1), team_lr=0.1, lam=-1.0, gamma=1.0)


def test_permfl_global_step_moves_beta_gamma_toward_plain_team_mean() -> None:
    out = permfl_global_step(vec(0, 0), [vec(2, 4), vec(4, 0)], beta=0.5, gamma=1.2)
    assert torch.allclose(out, 0.6 * vec(3, 2), atol=TOL)


def test_permfl_global_step_sample_weighted_option() -> None:
    out = permfl_global_step(vec(0, 0), [vec(2, 4), vec(4, 0)], beta=0.5, gamma=1.2,
                             sample_counts=[1, 3], weighting="samples")
    assert torch.allclose(out, 0.6 * vec(3.5, 1.0), atol=TOL)


@pytest.mark.parametrize(("beta", "gamma"), [(0.99, 5.0), (0.5, 2.0)])
def test_permfl_global_step_refuses_beta_gamma_of_one_or_more(beta: float, gamma: float) -> None:
    with pytest.raises(SimflError, match=r"beta\*gamma .* must be < 1\. .*convex combination"):
        permfl_global_step(vec(0, 0), [vec(1, 1)], beta=beta, gamma=gamma)


def test_pfedme_server_step_extrapolates_with_beta_two() -> None:
    # (1 - 2) * (1, 1) + 2 * mean((3, 1), (1, 5)) = (-1, -1) + (4, 6)
    out = pfedme_server_step(vec(1, 1), [vec(3, 1), vec(1, 5)], beta=2.0)
    assert torch.allclose(out, vec(3, 5), atol=TOL)


def test_pfedme_server_step_refuses_nonpositive_beta() -> None:
    with pytest.raises(SimflError, match=r"beta=0\.0 must be > 0"):
        pfedme_server_step(vec(1, 1), [vec(3, 1)], beta=0.0)


def test_hsgd_step_is_the_mean_of_the_tier_below() -> None:
    out = hsgd_step([vec(0, 3), vec(2, 1), vec(4, 2)])
    assert torch.allclose(out, vec(2, 2), atol=TOL)


# --- one PerMFL round composed from train_local (device step) and the rules above ------
# Quadratic device losses: a 2-parameter linear model on the unit vectors with targets t_i,
# MSE over both samples, so f_i(w) = ||w - t_i||^2 / 2 and grad f_i(w) = w - t_i.

TEAMS = [[vec(3, 0), vec(1, 2)], [vec(-1, -1), vec(5, 1)]]
X0 = vec(1, -2)


def permfl_round(alpha: float, device_prox: float, team_lr: float, lam: float, gamma: float,
                 beta: float, team_rounds: int, local_steps: int) -> tuple[torch.Tensor,
                                                                         list[torch.Tensor]]:
    """Return (new global model, last device models) of one full-participation round."""
    model = nn.Linear(2, 1, bias=False)
    features = torch.eye(2)
    cfg = TrainConfig(lr=alpha, steps=local_steps, batch_size=2)
    team_models, thetas = [], []
    for targets in TEAMS:
        w = X0.clone()
        for _ in range(team_rounds):
            thetas = []
            for i, t in enumerate(targets):
                set_flat(model, w)
                train_local(model, features, t, cfg, np.random.default_rng(i), task="regression",
                            prox=(w, device_prox))
                thetas.append(get_flat(model))
            w = permfl_team_step(w, average(thetas), X0, team_lr, lam, gamma)
        team_models.append(w)
    return permfl_global_step(X0, team_models, beta, gamma), thetas


def test_permfl_round_with_zero_couplings_leaves_global_and_team_models() -> None:
    x, thetas = permfl_round(alpha=0.1, device_prox=0.0, team_lr=0.2, lam=0.0, gamma=0.0,
                             beta=0.6, team_rounds=1, local_steps=1)
    assert torch.allclose(x, X0, atol=TOL)
    # devices still take one plain gradient step from the team model (= x0)
    for theta, t in zip(thetas, TEAMS[-1], strict=True):
        assert torch.allclose(theta, X0 - 0.1 * (X0 - t), atol=TOL)


def test_permfl_round_with_one_step_each_is_gradient_descent_on_the_mean_loss() -> None:
    alpha, lam, team_lr, gamma, beta = 0.1, 0.5, 0.2, 1.5, 0.6
    x, _ = permfl_round(alpha, device_prox=lam, team_lr=team_lr, lam=lam, gamma=gamma,
                        beta=beta, team_rounds=1, local_steps=1)
    # theta_i = x0 - alpha (x0 - t_i); w_j = x0 - team_lr lam alpha (x0 - mean_team t);
    # x = x0 - beta gamma team_lr lam alpha (x0 - mean over teams of the team means)
    target = torch.stack([torch.stack(ts).mean(0) for ts in TEAMS]).mean(0)
    expected = X0 - beta * gamma * team_lr * lam * alpha * (X0 - target)
    assert torch.allclose(x, expected, atol=TOL)
