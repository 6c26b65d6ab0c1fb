"""Ditto: Li, Hu, Beirami, Smith, "Ditto: Fair and Robust Federated Learning Through
Personalization", ICML 2021 (Algorithm 1).

Each round the cloud samples ``clients_per_round`` devices and sends them ``x``. A sampled
device runs its local update of the global model (``local_steps`` minibatch steps of SGD from
``x``, rate ``lr``) and as many steps on its personal model ``v``::

    v -= personal_lr * (grad f(v) + personal_lam * (v - x))

``v`` persists on the device between rounds (it starts as the initial model) and is its
personalized model (node ``personalized``); the local update of ``x`` goes up and the cloud
takes the mean (FedAvg; plain as in the paper, or weighted by samples). Node ``global`` is
``x``. Timing: both updates are compute on the device (two passes per sample); one model goes
each way.

Where simfl departs from the Ditto of the PerMFL repository (github.com/sourasb05/PerMFL_1,
``ditto_users.py``): there the device's model shares its tensors with the global model
(``local_param.data = global_param.data``), so devices train one after another on the same
weights, and the personal optimizer's gradient is never zeroed, so gradients accumulate over
steps. simfl keeps the two models apart and computes a fresh gradient at every step, as the
paper's Algorithm 1 does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from simfl.algorithms.personalized.cloud_rounds import CloudRoundsAlgorithm, CloudRoundsSection
from simfl.algorithms.personalized.device_round import JobOf, paired_model_spec
from simfl.engine.jobs import TrainingJob
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


class DittoConfig(CloudRoundsSection):
    """Ditto (Li et al., 2021): personal models regularized toward the FedAvg global model."""

    name: Literal["ditto"] = "ditto"
    personal_lam: float = Field(0.5, ge=0)
    """lambda: pulls each personal model toward the received global model."""
    personal_lr: float | None = Field(None, gt=0)
    """The personal model's step size (None: the local ``lr``)."""


@register_algorithm
class Ditto(CloudRoundsAlgorithm):
    """Ditto: a personal model per device next to the FedAvg global model."""

    config_model = DittoConfig
    config: DittoConfig
    paired = True

    def job_maker(self, round: int) -> JobOf:
        """Return the Ditto job: a paired (global copy, personal v) model."""
        from simfl.learning.paired import pack_pair
        from simfl.learning.personal_procedures import DITTO, register_personal_procedures

        register_personal_procedures()
        cfg, world = self.config, self.world
        work = self.local_work()
        spec = paired_model_spec(world)
        options = {"lam": cfg.personal_lam,
                   "personal_lr": cfg.personal_lr if cfg.personal_lr is not None else work.lr}

        def job_of(i: int, received: torch.Tensor) -> TrainingJob:
            start = pack_pair(received, self.device_models[i], world.num_parameters)
            return TrainingJob(i, start, f"train/{world.clients[i].name}/{round}", config=work,
                               procedure=DITTO, options=options, model=spec)

        return job_of
