"""PerMFL: Banerjee, Dadras, Yurtsever, Bhuyan, "Personalized Multi-tier Federated Learning",
arXiv 2407.14251 (2024).

A global model ``x`` on the cloud, a team model ``w_j`` on each team server (the client
groups), a personal model ``theta_i`` on each device. One global round (the loop and its
timing are in :mod:`simfl.algorithms.personalized.tiers`)::

    device i of team j:  theta_i = w_j, then L minibatch steps of
                         theta_i -= lr * (grad f_i(theta_i) + device_prox * (theta_i - w_j))
    team j, K times:     w_j -= team_lr * (lam * (w_j - mean_i theta_i) + gamma * (w_j - x_old))
    cloud:               x = (1 - beta*gamma) x_old + beta*gamma * mean over ALL teams of w_j

Teams not sampled this round enter the global mean with their last ``w_j`` (as in the
official code, github.com/sourasb05/PerMFL_1). Means are plain (the paper and the official
code); ``weighting: samples`` weights devices by their samples and teams by their members'.

``device_prox`` defaults to ``lam`` (the paper). The official code's device step uses
``L`` (``local_iters``, 20) instead: ``UserPerMFL`` passes ``(..., alpha, beta, lamda,
local_epochs)`` by position to ``User.__init__(..., alpha, beta, eta, lamda, ...)``, so lambda
lands in ``eta`` and L in ``lamda``. ``device_prox: 20`` reproduces the official
behaviour. ``beta * gamma >= 1`` is refused when the scenario is validated (the global step
would extrapolate past the team mean); the official defaults (beta 0.99, gamma 5) break that
rule, the paper's (0.6, 1.5) keep it.

Metrics: ``global`` (x), ``personalized`` (each device's theta on its own test data, pooled:
the paper's PM), ``team`` and ``team:<name>`` (each team model on its members' test data),
and ``global_clients`` where the global test set is not the pooled device test data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.personalized.device_round import vector_flops
from simfl.algorithms.personalized.evaluation import record_global, record_teams
from simfl.algorithms.personalized.rules import (
    beta_gamma_problem,
    permfl_global_step,
    permfl_team_step,
)
from simfl.algorithms.personalized.tiers import TeamAlgorithm, TeamRoundsSection
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch

TEAM_STEP_OPERATIONS = 7
"""Elementwise passes of the team step after the device mean: two differences, two scalings,
a sum, the step scaling and the subtraction."""
GLOBAL_STEP_OPERATIONS = 3
"""Elementwise passes of the global step after the team mean: two scalings and a sum."""


class PerMFLConfig(TeamRoundsSection):
    """PerMFL (Banerjee et al., 2024): personalized device, team and global models."""

    personalized: ClassVar[bool] = True

    name: Literal["permfl"] = "permfl"
    rounds: int = Field(30, gt=0)
    """T: global rounds."""
    team_lr: float = Field(0.03, gt=0)
    """eta: the team step size."""
    lam: float = Field(0.5, ge=0)
    """lambda: pulls each team model toward the mean of its devices."""
    gamma: float = Field(1.5, ge=0)
    """gamma: pulls each team model toward the global model (and sets the global step)."""
    beta: float = Field(0.6, gt=0)
    """beta: the global step is beta*gamma toward the team mean; beta*gamma must be < 1."""
    device_prox: float | None = Field(None, ge=0)
    """The devices' proximal coefficient toward w_j (None: lam, as in the paper; 20 is the
    official code's)."""

    @model_validator(mode="after")
    def _contraction(self) -> PerMFLConfig:
        problem = beta_gamma_problem(self.beta, self.gamma)
        if problem is not None:
            raise ValueError(problem)
        return self


@register_algorithm
class PerMFL(TeamAlgorithm):
    """Personalized multi-tier FL: global, team and device models."""

    config_model = PerMFLConfig
    config: PerMFLConfig

    def device_prox(self) -> float:
        """Return ``device_prox``, or ``lam`` when unset (the paper's device step)."""
        cfg = self.config
        return cfg.lam if cfg.device_prox is None else cfg.device_prox

    def team_update(self, w: torch.Tensor, thetas: Sequence[torch.Tensor],
                    sample_counts: Sequence[int], x_old: torch.Tensor) -> torch.Tensor:
        """Return ``permfl_team_step`` toward the (plain or weighted) mean of ``thetas``."""
        from simfl.algorithms.personalized.rules import average

        cfg = self.config
        theta_bar = average(thetas, sample_counts, cfg.weighting)
        return permfl_team_step(w, theta_bar, x_old, cfg.team_lr, cfg.lam, cfg.gamma)

    def team_update_flops(self, num_devices: int) -> float:
        """Return the FLOPs of the device mean and the team step."""
        p = self.world.num_parameters
        return aggregation_flops(p, num_devices) + vector_flops(p, TEAM_STEP_OPERATIONS)

    def global_update(self, x_old: torch.Tensor, sampled: Sequence[str]) -> torch.Tensor:
        """Return ``permfl_global_step`` over every team's current ``w_j``."""
        cfg = self.config
        groups = self.groups
        return permfl_global_step(x_old, [self.team_models[g.name] for g in groups],
                                  cfg.beta, cfg.gamma,
                                  [self.team_samples(g) for g in groups], cfg.weighting)

    def global_update_flops(self, num_sampled: int) -> float:
        """Return the FLOPs of the mean over all teams and the global step."""
        p = self.world.num_parameters
        return aggregation_flops(p, len(self.groups)) + vector_flops(p, GLOBAL_STEP_OPERATIONS)

    def record(self, round: int) -> bool:
        """Record ``global`` (x), ``personalized`` (theta), ``team`` and ``team:<name>``."""
        assert self.x is not None
        self.evaluate_personalized(self.device_models, round)
        record_teams(self, self.team_models, self.groups, round)
        return record_global(self, self.x, round)
