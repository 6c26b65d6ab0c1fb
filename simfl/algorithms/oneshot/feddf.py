"""FedDF: one-shot ensemble distillation into one model on unlabeled public data.

Lin et al., "Ensemble Distillation for Robust Model Fusion in Federated Learning", NeurIPS
2020, run in one round as a baseline of FuseFL (Tang et al., arXiv 2410.20380; the FuseFL
repository has no FedDF, its numbers come from the paper). Every client trains the common
initial model for ``local_epochs`` epochs and uploads it; the cloud starts a student from
the sample-weighted average of the M models (FedDF's initialisation) and trains it with
Adam to match the softmax of the ensemble's mean logits on unlabeled public inputs
(:func:`simfl.learning.ensemble.distill`), then broadcasts the student.

The public inputs are ``data.public_fraction`` of the training set, held out before
partitioning (``world.public_x``); without that key the world holds out
:attr:`FedDFConfig.public_data_fraction`. Set the key in comparisons so that every method
trains on the same shards. The cloud's compute is the teachers' forward once per public
sample plus the student's training FLOPs per distilled sample.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import weighted_average
from simfl.algorithms.base import Algorithm
from simfl.algorithms.oneshot.exchange import (
    OneShotSection,
    broadcast,
    received_models,
    upload_local_models,
)
from simfl.engine.actions import compute
from simfl.errors import SimflError
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


class FedDFConfig(OneShotSection):
    """FedDF (Lin et al., 2020) in one round: the averaged model distilled from the ensemble
    on unlabeled public data (Adam, ``distill_steps`` minibatches)."""

    name: Literal["feddf"] = "feddf"
    distill_steps: int = Field(500, gt=0)
    distill_lr: float = Field(1e-3, gt=0)
    distill_batch_size: int = Field(64, gt=0)
    temperature: float = Field(1.0, gt=0)

    public_data_fraction: ClassVar[float] = 0.1


def distillation_flops(num_teachers: int, teacher_forward_flops: float, num_public: int,
                       samples_distilled: int, student_train_flops: float) -> float:
    """Return the cloud's FLOPs of distillation: the teachers' forward once per public
    sample, plus the student's training (forward + backward) per distilled sample."""
    return (num_teachers * teacher_forward_flops * num_public
            + samples_distilled * student_train_flops)


@register_algorithm
class FedDF(Algorithm):
    """Train everywhere once, distill the ensemble into one model at the cloud, broadcast."""

    config_model = FedDFConfig
    config: FedDFConfig
    final_model: torch.Tensor
    """The distilled student's flat state, once built."""

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: collect the M models, distill, broadcast, evaluate."""
        from simfl.learning.ensemble import distill
        from simfl.learning.params import get_flat, set_flat
        from simfl.learning.training import TrainConfig, planned_samples

        world, sim, cfg = self.world, self.sim, self.config
        public_x = world.public_x
        if public_x is None or len(public_x) == 0:
            raise SimflError("feddf distills on unlabeled public data, and this world has none: "
                             "set data.public_fraction, e.g. 0.1 (held out of the training "
                             "set before partitioning)")
        jobs = yield from upload_local_models(self, world.initial_parameters(),
                                              cfg.local_epochs)
        vectors = [world.as_sent(j.value()) for j in jobs]
        teachers = received_models(world, vectors)
        student = world.model_factory()
        set_flat(student, weighted_average(vectors, [j.num_samples for j in jobs]))
        distill_cfg = TrainConfig(optimizer="adam", lr=cfg.distill_lr,
                                  steps=cfg.distill_steps, epochs=None,
                                  batch_size=cfg.distill_batch_size)
        samples = planned_samples(len(public_x), distill_cfg)
        t0 = sim.now_s
        yield from compute(sim, world.nodes["cloud"], distillation_flops(
            len(teachers), world.eval_flops_per_sample, len(public_x), samples,
            world.train_flops_per_sample), round=1, what="distill")
        result = distill(student, teachers, public_x, distill_cfg, sim.rng("feddf/distill"),
                         temperature=cfg.temperature)
        sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=1, models=len(teachers),
                         what="distill", public_samples=len(public_x),
                         distill_loss=result.mean_loss)
        self.rounds_completed = 1
        self.final_model = get_flat(student)
        yield from broadcast(self, world.payload_bytes, 1, what="model")
        self.evaluate_global(self.final_model, 1)
