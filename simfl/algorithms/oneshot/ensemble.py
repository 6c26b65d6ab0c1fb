"""Ensemble: the mean of the M independently trained models' logits, in one exchange.

FuseFL's upper-bound baseline (Tang et al., "FuseFL: One-Shot Federated Learning through
the Lens of Causality with Progressive Model Fusion", NeurIPS 2024, arXiv 2410.20380): every
client trains the common initial model for ``local_epochs`` epochs and uploads it; the
ensemble predicts with the mean of the M models' logits
(:class:`simfl.learning.ensemble.EnsembleModel`). It costs M models: the cloud broadcasts
all M to every client, and inference runs M forwards.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

import simpy

from simfl.algorithms.base import Algorithm
from simfl.algorithms.oneshot.exchange import (
    OneShotSection,
    broadcast,
    received_models,
    upload_local_models,
)
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    from simfl.learning.ensemble import EnsembleModel


class EnsembleConfig(OneShotSection):
    """Logit ensemble of the M local models (an upper bound that costs M models)."""

    name: Literal["ensemble"] = "ensemble"


@register_algorithm
class Ensemble(Algorithm):
    """Train everywhere once, send every model to everyone, predict with the mean logits."""

    config_model = EnsembleConfig
    config: EnsembleConfig
    final_model: EnsembleModel
    """The ensemble of the received models, once built."""

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: collect the M models, broadcast them all, evaluate."""
        from simfl.learning.ensemble import EnsembleModel

        world, sim, cfg = self.world, self.sim, self.config
        jobs = yield from upload_local_models(self, world.initial_parameters(),
                                              cfg.local_epochs)
        models = received_models(world, (j.value() for j in jobs))
        sim.trace.record("aggregate", "cloud", sim.now_s, sim.now_s, round=1,
                         models=len(models), what="ensemble")
        self.rounds_completed = 1
        self.final_model = EnsembleModel(models)
        yield from broadcast(self, len(models) * world.payload_bytes, 1, what="ensemble")
        self.evaluate_global(self.final_model, 1,
                             flops_per_sample=len(models) * world.eval_flops_per_sample)
