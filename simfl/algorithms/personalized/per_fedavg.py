"""Per-FedAvg: Fallah, Mokhtari, Ozdaglar, "Personalized Federated Learning with Theoretical
Guarantees: A Model-Agnostic Meta-Learning Approach", NeurIPS 2020 (the first-order variant,
Per-FedAvg (FO)).

Each round the cloud samples ``clients_per_round`` devices and sends them ``x``; each takes
``local_steps`` (tau) meta steps (default: the ``training`` section's steps, or as many as its
epochs of minibatches make, two per step), every one on two fresh minibatches::

    temp = w - lr * grad f(w; batch 1)           # lr is alpha, the adaptation step
    w   -= meta_lr * grad f(temp; batch 2)       # meta_lr is beta; no Hessian term (FO)

and sends ``w`` back; the cloud takes the mean (plain, as in the paper). The personalized
model of a device (node ``personalized``) is ``x`` adapted by one gradient step with ``lr``
on a minibatch of the device's own training data, the evaluation of Fallah et al.; node
``global`` is ``x`` itself. Timing: a meta step costs two minibatch gradients on the device
(the job plans ``2 * tau`` minibatches); the adaptation is part of the measurement, not of
the protocol, and takes no simulated time.

Where simfl departs from the Per-FedAvg of the pFedMe and PerMFL repositories: they adapt
with steps on *test* minibatches before evaluating on test data; simfl adapts on training
data only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from simfl.algorithms.personalized.cloud_rounds import CloudRoundsAlgorithm, CloudRoundsSection
from simfl.algorithms.personalized.device_round import JobOf
from simfl.algorithms.personalized.evaluation import record_global
from simfl.engine.jobs import TrainingJob
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


class PerFedAvgConfig(CloudRoundsSection):
    """Per-FedAvg (Fallah et al., 2020): first-order MAML, one-step adaptation per device."""

    name: Literal["per_fedavg"] = "per_fedavg"
    meta_lr: float = Field(0.005, gt=0)
    """beta: the meta step size (``lr`` is alpha, the adaptation step)."""


@register_algorithm
class PerFedAvg(CloudRoundsAlgorithm):
    """Per-FedAvg (first order): a meta-learned global model, adapted on each device."""

    config_model = PerFedAvgConfig
    config: PerFedAvgConfig

    def meta_steps(self, num_samples: int) -> int:
        """Return tau for a device with ``num_samples``: ``local_steps``, else the training
        section's steps, else enough steps for its epochs (two minibatches each, rounded up)."""
        work = self.local_work()
        if work.steps is not None:
            return work.steps
        minibatches = -(-num_samples // work.batch_size) * int(work.epochs or 1)
        return -(-minibatches // 2)

    def job_maker(self, round: int) -> JobOf:
        """Return the Per-FedAvg job: ``tau`` meta steps (``2 * tau`` minibatches)."""
        from dataclasses import replace

        from simfl.learning.personal_procedures import PERFEDAVG, register_personal_procedures

        register_personal_procedures()
        world = self.world
        work = self.local_work()
        options = {"meta_lr": self.config.meta_lr}

        def job_of(i: int, received: torch.Tensor) -> TrainingJob:
            tau = self.meta_steps(world.clients[i].num_samples)
            return TrainingJob(i, received, f"train/{world.clients[i].name}/{round}",
                               config=replace(work, steps=2 * tau, epochs=None),
                               procedure=PERFEDAVG, options=options)

        return job_of

    def adapted(self, x: torch.Tensor, round: int) -> dict[int, torch.Tensor]:
        """Return each device's one-step adaptation of ``x`` on its own training data."""
        from simfl.learning.training import TrainConfig

        world = self.world
        one_step = TrainConfig(lr=self.local_work().lr, steps=1,
                               batch_size=world.train_config.batch_size)
        return {i: world.jobs.submit(TrainingJob(i, x, f"adapt/{c.name}/{round}",
                                                 config=one_step)).value()
                for i, c in enumerate(world.clients)}

    def record(self, round: int) -> bool:
        """Record ``personalized`` (x adapted on each device) and ``global`` (x)."""
        assert self.x is not None
        self.device_models = self.adapted(self.x, round)
        self.evaluate_personalized(self.device_models, round)
        return record_global(self, self.x, round)
