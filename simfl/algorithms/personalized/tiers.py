"""The device-team-global loop of PerMFL and h-SGD, timed on a device-edge-cloud network.

Teams are the scenario's client groups (``groups`` section; contiguous blocks by default,
the official PerMFL code's ``group_division 0``), each with its team server and its own
access medium (``group.down`` / ``group.up``); team servers reach the cloud over the backhaul
(``edge_cloud_down`` / ``edge_cloud_up``). One global round::

    x_old = x                                          # the cloud's global model
    each sampled team j, in parallel:                  # teams_per_round of them
        x_old goes down the backhaul to team server j; w_j = x_old
        repeat K times (team_rounds):
            w_j goes down to every member of team j
            each sampled device i (devices_per_team_round): theta_i = w_j, then a training
                job of L minibatch steps (local_steps, lr; proximal term toward w_j where
                the algorithm has one: compute on the device), theta_i goes up
            w_j = team_update(w_j, thetas, x_old)      # compute on team server j
        w_j goes up the backhaul
    x = global_update(x_old, team models)              # compute on the cloud

PerMFL (Banerjee et al., arXiv 2407.14251) and h-SGD (hierarchical local SGD; e.g. Wang,
Xu, Wang, Joshi, "Demystifying Why Local Aggregation Helps: Convergence Analysis of
Hierarchical SGD", AAAI 2022) differ only in the proximal term and the two update rules.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy
from pydantic import Field

from simfl.algorithms.base import Algorithm, sample_clients
from simfl.algorithms.personalized.device_round import device_round
from simfl.engine.actions import compute
from simfl.engine.jobs import TrainingJob, with_work
from simfl.scenario.algorithm_section import RoundsSection

if TYPE_CHECKING:
    import torch

    from simfl.learning.training import TrainConfig
    from simfl.scenario.groups import ClientGroup


class TeamRoundsSection(RoundsSection):
    """Keys shared by the device-team-global algorithms (PerMFL, h-SGD)."""

    uses_groups: ClassVar[bool] = True

    team_rounds: int = Field(10, gt=0)
    """K: team rounds per global round."""
    local_steps: int | None = Field(None, gt=0)
    """L: minibatch steps per device per team round (None: the ``training`` section's work)."""
    lr: float | None = Field(None, gt=0)
    """alpha: the devices' step size (None: ``training.lr``)."""
    teams_per_round: int | None = Field(None, gt=0)
    """Teams sampled per global round (None: all)."""
    devices_per_team_round: int | None = Field(None, gt=0)
    """Devices a team samples per team round (None: all its members)."""
    weighting: Literal["plain", "samples"] = "plain"
    """Means over devices and teams: ``plain`` (the papers, the official code) or by samples."""


class TeamAlgorithm(Algorithm):
    """The timed device-team-global loop; subclasses give the prox term and update rules.

    After :meth:`run`, ``x`` is the global model, ``team_models`` maps each team's name to its
    ``w_j`` and ``device_models`` each device to its last ``theta_i`` (the initial model for
    devices that never trained).
    """

    config: TeamRoundsSection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.x: torch.Tensor | None = None
        self.team_models: dict[str, torch.Tensor] = {}
        self.device_models: dict[int, torch.Tensor] = {}

    # --- what subclasses define ------------------------------------------------------------
    def device_prox(self) -> float | None:
        """Return the devices' proximal coefficient toward ``w_j`` (None: no proximal term)."""
        raise NotImplementedError

    def team_update(self, w: torch.Tensor, thetas: Sequence[torch.Tensor],
                    sample_counts: Sequence[int], x_old: torch.Tensor) -> torch.Tensor:
        """Return the team model after a team round, shape (P,)."""
        raise NotImplementedError

    def team_update_flops(self, num_devices: int) -> float:
        """Return the FLOPs of :meth:`team_update` over ``num_devices`` device models."""
        raise NotImplementedError

    def global_update(self, x_old: torch.Tensor, sampled: Sequence[str]) -> torch.Tensor:
        """Return the new global model from ``self.team_models`` (``sampled`` took part)."""
        raise NotImplementedError

    def global_update_flops(self, num_sampled: int) -> float:
        """Return the FLOPs of :meth:`global_update` when ``num_sampled`` teams took part."""
        raise NotImplementedError

    def record(self, round: int) -> bool:
        """Record the round's metrics; return True when the target accuracy is reached."""
        raise NotImplementedError

    # --- the loop ---------------------------------------------------------------------------
    @property
    def groups(self) -> list[ClientGroup]:
        """Return the teams (the world's client groups)."""
        assert self.world.groups is not None
        return list(self.world.groups)

    def team_samples(self, group: ClientGroup) -> int:
        """Return the training samples behind a team (its weight with ``weighting: samples``)."""
        return sum(self.world.clients[i].num_samples for i in group.clients)

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: T global rounds of sampled teams, then the global update."""
        world, sim, cfg = self.world, self.sim, self.config
        groups = self.groups
        x = world.initial_parameters()
        self.x = x
        self.team_models = {g.name: x for g in groups}
        self.device_models = dict.fromkeys(range(len(world.clients)), x)
        self.record(0)
        sampler = sim.rng("team_sampling")
        for r in range(1, cfg.rounds + 1):
            chosen = sample_clients(sampler, range(len(groups)), cfg.teams_per_round or len(groups))
            sampled = [groups[j] for j in chosen]
            procs = [sim.process(self.team_process(g, x, r)) for g in sampled]
            yield sim.env.all_of(procs)
            for group, proc in zip(sampled, procs, strict=True):
                w = proc.value
                assert w is not None
                self.team_models[group.name] = w
            t0 = sim.now_s
            yield from compute(sim, world.nodes["cloud"], self.global_update_flops(len(sampled)),
                               round=r, what="aggregate")
            x = self.global_update(x, [g.name for g in sampled])
            self.x = x
            sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=r, models=len(sampled))
            self.rounds_completed = r
            if (r % cfg.eval_every_rounds == 0 or r == cfg.rounds) and self.record(r):
                return

    def team_process(self, group: ClientGroup, x: torch.Tensor,
                     round: int) -> Generator[simpy.Event, Any, torch.Tensor]:
        """One team's global round: receive ``x``, K team rounds, send ``w_j`` back."""
        world, sim, cfg = self.world, self.sim, self.config
        name = group.name
        nbytes = world.payload_bytes
        yield from world.channels["edge_cloud_down"].send("cloud", name, nbytes, round=round)
        x_old = world.as_sent(x)
        w = x_old
        sampler = sim.rng(f"device_sampling/{name}")
        per_round = cfg.devices_per_team_round or len(group.clients)
        work = with_work(world.train_config, steps=cfg.local_steps, lr=cfg.lr)
        for k in range(cfg.team_rounds):
            trainers = sample_clients(sampler, group.clients, per_round)
            jobs = yield from device_round(
                self, w, self._job_maker(work, f"{round}.{k}"), round=round,
                members=group.clients, trainers=trainers, uploaders=trainers, server=name,
                down=group.down, up=group.up, team_round=k)
            kept = sorted(jobs)
            for i in kept:
                self.device_models[i] = jobs[i].value()
            t0 = sim.now_s
            yield from compute(sim, world.nodes[name], self.team_update_flops(len(kept)),
                               round=round, what="aggregate", team_round=k)
            w = self.team_update(w, [world.as_sent(self.device_models[i]) for i in kept],
                                 [world.clients[i].num_samples for i in kept], x_old)
            sim.trace.record("aggregate", name, t0, sim.now_s, round=round, team_round=k,
                             models=len(kept))
        yield from world.channels["edge_cloud_up"].send(name, "cloud", nbytes, round=round)
        return world.as_sent(w)

    def _job_maker(self, work: TrainConfig, key: str) -> Any:
        prox = self.device_prox()
        clients = self.world.clients

        def job_of(i: int, received: torch.Tensor) -> TrainingJob:
            return TrainingJob(i, received, f"train/{clients[i].name}/{key}", config=work,
                               prox=None if prox is None else (received, prox))

        return job_of
