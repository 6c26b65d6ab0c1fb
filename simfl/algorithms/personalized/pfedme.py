"""pFedMe: Dinh, Tran, Nguyen, "Personalized Federated Learning with Moreau Envelopes",
NeurIPS 2020 (Algorithm 1).

Each round the cloud sends ``x`` to every device; every device runs R local rounds
(``local_steps``, one minibatch each): K inner steps (``inner_steps``, rate ``inner_lr``)
approximately solve ``theta = argmin f_i(theta; batch) + moreau_lam/2 ||theta - w||^2``, then
``w -= lr * moreau_lam * (w - theta)``; the cloud samples ``clients_per_round`` devices and
sets ``x = (1 - server_beta) x + server_beta * mean of their w``
(:func:`~simfl.algorithms.personalized.rules.pfedme_server_step`). A device's personalized
model (node ``personalized``, the paper's PM) is its ``theta`` after the round; the global
model ``x`` is node ``global``.

Timing: every device downloads ``x`` and trains (K forward and backward passes per minibatch
sample: the job's FLOPs count them); only the sampled devices upload their ``w``.

Where simfl departs from the code in the PerMFL repository (github.com/sourasb05/PerMFL_1,
``serverpFedMeoriginal.py``): its "personalized" accuracy evaluates the device's copy of the
local model ``w``, not the personal model ``theta``; simfl evaluates ``theta``, as the paper
defines. ``theta`` starts each round from the received ``x`` (as in that code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.personalized.cloud_rounds import CloudRoundsAlgorithm, CloudRoundsSection
from simfl.algorithms.personalized.device_round import JobOf, paired_model_spec, vector_flops
from simfl.algorithms.personalized.rules import pfedme_server_step
from simfl.engine.jobs import TrainingJob
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch

SERVER_STEP_OPERATIONS = 3
"""Elementwise passes of the server step after the mean: two scalings and a sum."""


class PFedMeConfig(CloudRoundsSection):
    """pFedMe (Dinh et al., 2020): Moreau-envelope personal models, K inner steps."""

    name: Literal["pfedme"] = "pfedme"
    moreau_lam: float = Field(15.0, gt=0)
    """lambda: the Moreau envelope's pull between the personal and the local model."""
    inner_steps: int = Field(5, gt=0)
    """K: gradient steps of the inner (personal) solve per minibatch."""
    inner_lr: float = Field(0.05, gt=0)
    """The personal learning rate of the inner solve."""
    server_beta: float = Field(1.0, gt=0)
    """beta: the cloud's step toward the devices' mean (1: the mean; the paper also uses 2)."""


@register_algorithm
class PFedMe(CloudRoundsAlgorithm):
    """pFedMe: personalized models with Moreau envelopes."""

    config_model = PFedMeConfig
    config: PFedMeConfig
    trains_everyone = True
    paired = True

    def job_maker(self, round: int) -> JobOf:
        """Return the pFedMe job: a paired (w, theta) model, both starting from ``x``."""
        from simfl.learning.paired import pack_pair
        from simfl.learning.personal_procedures import pfedme_procedure_name

        cfg, world = self.config, self.world
        work = self.local_work()
        spec = paired_model_spec(world)
        procedure = pfedme_procedure_name(cfg.inner_steps)
        options = {"lam": cfg.moreau_lam, "inner_lr": cfg.inner_lr,
                   "inner_steps": cfg.inner_steps}

        def job_of(i: int, received: torch.Tensor) -> TrainingJob:
            return TrainingJob(i, pack_pair(received, received, world.num_parameters),
                               f"train/{world.clients[i].name}/{round}", config=work,
                               procedure=procedure, options=options, model=spec)

        return job_of

    def server_update(self, x: torch.Tensor, uploads: Sequence[torch.Tensor],
                      sample_counts: Sequence[int]) -> torch.Tensor:
        """Return ``(1 - beta) x + beta * mean(w)``."""
        cfg = self.config
        return pfedme_server_step(x, uploads, cfg.server_beta, sample_counts, cfg.weighting)

    def server_update_flops(self, num_uploads: int) -> float:
        """Return the FLOPs of the mean and the server step."""
        p = self.world.num_parameters
        return aggregation_flops(p, num_uploads) + vector_flops(p, SERVER_STEP_OPERATIONS)
