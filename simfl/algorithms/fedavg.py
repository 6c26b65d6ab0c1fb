"""FedAvg: McMahan et al., "Communication-Efficient Learning of Deep Networks from
Decentralized Data", AISTATS 2017.

Each round the cloud samples ``clients_per_round`` clients, sends them the global model,
they train locally and upload; the cloud averages the updates it received (by the
deadline, if one is set) weighted by local sample counts.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.base import Algorithm, sample_clients, train_clients
from simfl.engine.actions import compute
from simfl.scenario.algorithm_section import RoundsSection
from simfl.scenario.registry import register_algorithm
from simfl.scenario.units import DurationS


class FedAvgConfig(RoundsSection):
    """FedAvg (McMahan et al., 2017): sampled clients, sample-weighted averaging."""

    name: Literal["fedavg"] = "fedavg"
    clients_per_round: int = Field(10, gt=0)
    deadline_s: DurationS | None = Field(None, gt=0)


@register_algorithm(default=True)
class FedAvg(Algorithm):
    """Single-tier FedAvg between devices and the cloud."""

    config_model = FedAvgConfig
    config: FedAvgConfig

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: rounds of sample, train, aggregate, evaluate."""
        world, sim, cfg = self.world, self.sim, self.config
        cloud = world.nodes["cloud"]
        down, up = world.channels["device_cloud_down"], world.channels["device_cloud_up"]
        population = list(range(len(world.clients)))
        sampler = sim.rng("client_sampling")
        w = world.initial_parameters()
        self.evaluate_global(w, 0)
        for r in range(1, cfg.rounds + 1):
            chosen = sample_clients(sampler, population, cfg.clients_per_round)
            updates = yield from train_clients(self, chosen, w, r, "cloud", down, up,
                                               cfg.deadline_s)
            if updates:
                t0 = sim.now_s
                yield from compute(sim, cloud, aggregation_flops(world.num_parameters,
                                                                 len(updates)), round=r,
                                   what="aggregate")
                w = weighted_average([u.parameters for u in updates],
                                     [u.num_samples for u in updates])
                sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=r,
                                 models=len(updates), dropped=len(chosen) - len(updates))
                self.rounds_completed += 1
            due = r % cfg.eval_every_rounds == 0 or r == cfg.rounds
            if due and self.evaluate_global(w, r):
                return
