"""The device-cloud loop of the single-tier personalized baselines (pFedMe, Ditto, Per-FedAvg).

One global round::

    the cloud samples clients_per_round devices (None: all)
    the global model x goes down (device_cloud_down) to the round's members
    each trainer runs its training job (compute on the device); the sampled ones send their
    result up (device_cloud_up)
    x = server_update(x, the sampled devices' results)      # compute on the cloud

Each algorithm says who receives and trains (pFedMe: every device, Algorithm 1 of Dinh et al.;
Ditto and Per-FedAvg: the sampled ones), what job a device runs, what it keeps on the device
(its personal model) and how the cloud aggregates. Papers: see the algorithm modules.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.base import Algorithm, sample_clients
from simfl.algorithms.personalized.device_round import JobOf, device_round
from simfl.algorithms.personalized.evaluation import record_global
from simfl.algorithms.personalized.rules import average
from simfl.engine.actions import compute
from simfl.engine.jobs import with_work
from simfl.scenario.algorithm_section import RoundsSection

if TYPE_CHECKING:
    import torch

    from simfl.engine.jobs import PendingTraining
    from simfl.learning.training import TrainConfig


class CloudRoundsSection(RoundsSection):
    """Keys shared by the single-tier personalized baselines."""

    personalized: ClassVar[bool] = True

    rounds: int = Field(30, gt=0)
    clients_per_round: int | None = Field(None, gt=0)
    """Devices the cloud aggregates per round (None: all)."""
    local_steps: int | None = Field(None, gt=0)
    """Minibatch steps per device per round (None: the ``training`` section's work)."""
    lr: float | None = Field(None, gt=0)
    """The devices' local step size (None: ``training.lr``)."""
    weighting: Literal["plain", "samples"] = "plain"
    """The cloud's mean: ``plain`` (the papers) or weighted by the devices' samples."""


class CloudRoundsAlgorithm(Algorithm):
    """The timed device-cloud loop; subclasses give the jobs, the personal models and the rule.

    After :meth:`run`, ``x`` is the global model and ``device_models`` each device's personal
    model.
    """

    config: CloudRoundsSection
    trains_everyone: ClassVar[bool] = False
    """True: every device receives x and trains each round; only the sampled ones upload."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.x: torch.Tensor | None = None
        self.device_models: dict[int, torch.Tensor] = {}

    # --- what subclasses define ------------------------------------------------------------
    paired: ClassVar[bool] = False
    """True: a job trains a paired model (the upload, the device's personal model)."""

    def job_maker(self, round: int) -> JobOf:
        """Return the function that builds a device's job this round."""
        raise NotImplementedError

    def absorb(self, client: int, value: torch.Tensor) -> torch.Tensor:
        """Keep what the device keeps from its job's value; return what it uploads, (P,).

        A paired job's value holds the upload and the personal model (kept); otherwise the
        value is the upload and the device keeps nothing.
        """
        if not self.paired:
            return value
        from simfl.learning.paired import unpack_pair

        upload, personal = unpack_pair(value, self.world.num_parameters)
        self.device_models[client] = personal
        return upload

    def server_update(self, x: torch.Tensor, uploads: Sequence[torch.Tensor],
                      sample_counts: Sequence[int]) -> torch.Tensor:
        """Return the new global model: the mean of the uploads (FedAvg), by default."""
        return average(uploads, sample_counts, self.config.weighting)

    def server_update_flops(self, num_uploads: int) -> float:
        """Return the FLOPs of :meth:`server_update` (the mean, by default)."""
        return aggregation_flops(self.world.num_parameters, num_uploads)

    def record(self, round: int) -> bool:
        """Record ``personalized`` and ``global``; return True at the target accuracy."""
        assert self.x is not None
        self.evaluate_personalized(self.device_models, round)
        return record_global(self, self.x, round)

    # --- the loop ---------------------------------------------------------------------------
    def local_work(self) -> TrainConfig:
        """Return the devices' training settings: the ``training`` section with this
        algorithm's ``local_steps`` and ``lr`` where set."""
        cfg = self.config
        return with_work(self.world.train_config, steps=cfg.local_steps, lr=cfg.lr)

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: rounds of broadcast, device jobs, aggregation, evaluation."""
        world, sim, cfg = self.world, self.sim, self.config
        everyone = list(range(len(world.clients)))
        x = self.x = world.initial_parameters()
        self.device_models = dict.fromkeys(everyone, x)
        self.record(0)
        sampler = sim.rng("client_sampling")
        down, up = world.channels["device_cloud_down"], world.channels["device_cloud_up"]
        for r in range(1, cfg.rounds + 1):
            chosen = sample_clients(sampler, everyone, cfg.clients_per_round or len(everyone))
            members = everyone if self.trains_everyone else chosen
            jobs: dict[int, PendingTraining] = yield from device_round(
                self, x, self.job_maker(r), round=r, members=members, trainers=members,
                uploaders=chosen, server="cloud", down=down, up=up)
            uploads = {i: self.absorb(i, job.value()) for i, job in sorted(jobs.items())}
            kept = [i for i in chosen if i in uploads]
            if kept:
                t0 = sim.now_s
                yield from compute(sim, world.nodes["cloud"], self.server_update_flops(len(kept)),
                                   round=r, what="aggregate")
                x = self.x = self.server_update(
                    x, [world.as_sent(uploads[i]) for i in kept],
                    [world.clients[i].num_samples for i in kept])
                sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=r, models=len(kept))
                self.rounds_completed = r
            if (r % cfg.eval_every_rounds == 0 or r == cfg.rounds) and self.record(r):
                return
