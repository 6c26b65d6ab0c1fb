"""h-SGD, hierarchical local SGD: Wang, Xu, Wang, Joshi, "Demystifying Why Local Aggregation
Helps: Convergence Analysis of Hierarchical SGD", AAAI 2022 (also Lin et al., "Don't Use
Large Mini-Batches, Use Local SGD", ICLR 2020); the h-SGD baseline of PerMFL (arXiv
2407.14251).

The loop of :mod:`simfl.algorithms.personalized.tiers` without proximal terms: each team
round, the sampled devices of a team take L minibatch steps from the team model and the team
model becomes their mean (:func:`~simfl.algorithms.personalized.rules.hsgd_step`); after K
team rounds the global model becomes the mean of the sampled teams' models. One model per
tier and no personal models: its metrics are ``global`` and the team models (``team``,
``team:<name>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.personalized.evaluation import record_global, record_teams
from simfl.algorithms.personalized.rules import hsgd_step
from simfl.algorithms.personalized.tiers import TeamAlgorithm, TeamRoundsSection
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


class HSGDConfig(TeamRoundsSection):
    """h-SGD (hierarchical local SGD): team = mean of its devices, global = mean of teams."""

    name: Literal["hsgd"] = "hsgd"
    rounds: int = Field(30, gt=0)


@register_algorithm
class HSGD(TeamAlgorithm):
    """Hierarchical local SGD over devices, team servers and the cloud."""

    config_model = HSGDConfig
    config: HSGDConfig

    def device_prox(self) -> None:
        """Return None: devices run plain local SGD."""
        return None

    def team_update(self, w: torch.Tensor, thetas: Sequence[torch.Tensor],
                    sample_counts: Sequence[int], x_old: torch.Tensor) -> torch.Tensor:
        """Return the mean of the devices' models."""
        return hsgd_step(thetas, sample_counts, self.config.weighting)

    def team_update_flops(self, num_devices: int) -> float:
        """Return the FLOPs of the mean of ``num_devices`` models."""
        return aggregation_flops(self.world.num_parameters, num_devices)

    def global_update(self, x_old: torch.Tensor, sampled: Sequence[str]) -> torch.Tensor:
        """Return the mean of the sampled teams' models."""
        groups = [g for g in self.groups if g.name in set(sampled)]
        return hsgd_step([self.team_models[g.name] for g in groups],
                         [self.team_samples(g) for g in groups], self.config.weighting)

    def global_update_flops(self, num_sampled: int) -> float:
        """Return the FLOPs of the mean of the sampled teams' models."""
        return aggregation_flops(self.world.num_parameters, num_sampled)

    def record(self, round: int) -> bool:
        """Record ``global`` and the team models."""
        assert self.x is not None
        record_teams(self, self.team_models, self.groups, round)
        return record_global(self, self.x, round)
