"""Hierarchical FedAvg (client-edge-cloud): Liu et al., "Client-Edge-Cloud Hierarchical
Federated Learning", ICC 2020.

Devices are the client groups of the scenario's ``groups`` section, one edge server per
group. Each cloud round, every edge server receives the global model, runs ``edge_rounds``
rounds of FedAvg with its devices over its own device-edge medium, and uploads its edge
model; the cloud averages the edge models weighted by the samples behind each.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.base import Algorithm, ClientUpdate, sample_clients, train_clients
from simfl.engine.actions import compute
from simfl.scenario.algorithm_section import RoundsSection
from simfl.scenario.registry import register_algorithm
from simfl.scenario.units import DurationS

if TYPE_CHECKING:
    import torch

    from simfl.scenario.groups import ClientGroup


class HierarchicalConfig(RoundsSection):
    """Hierarchical FedAvg: devices -> edge servers (the client groups) -> cloud."""

    uses_groups: ClassVar[bool] = True

    name: Literal["hierarchical"] = "hierarchical"
    edge_rounds: int = Field(2, gt=0)
    clients_per_edge_round: int | None = Field(None, gt=0)
    deadline_s: DurationS | None = Field(None, gt=0)


@register_algorithm
class HierarchicalFedAvg(Algorithm):
    """Devices -> edge servers -> cloud FedAvg."""

    config_model = HierarchicalConfig
    config: HierarchicalConfig

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: each round, all edges run their edge rounds in parallel."""
        world, sim, cfg = self.world, self.sim, self.config
        assert world.groups is not None
        groups = list(world.groups)
        w = world.initial_parameters()
        self.evaluate_global(w, 0)
        for r in range(1, cfg.rounds + 1):
            procs = [sim.process(self.edge_process(group, w, r)) for group in groups]
            yield sim.env.all_of(procs)
            results: list[ClientUpdate] = [p.value for p in procs if p.value is not None]
            if results:
                t0 = sim.now_s
                yield from compute(sim, world.nodes["cloud"],
                                   aggregation_flops(world.num_parameters, len(results)),
                                   round=r, what="aggregate")
                w = weighted_average([u.parameters for u in results],
                                     [u.num_samples for u in results])
                sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=r,
                                 models=len(results))
                self.rounds_completed += 1
            due = r % cfg.eval_every_rounds == 0 or r == cfg.rounds
            if due and self.evaluate_global(w, r):
                return

    def edge_process(
        self, group: ClientGroup, w_global: torch.Tensor, round: int
    ) -> Generator[simpy.Event, Any, ClientUpdate | None]:
        """One edge server's cloud round: download, edge rounds of FedAvg, upload."""
        world, sim, cfg = self.world, self.sim, self.config
        name, clients = group.name, group.clients
        node = world.nodes[name]
        nbytes = world.payload_bytes
        yield from world.channels["edge_cloud_down"].send("cloud", name, nbytes, round=round)
        w = world.as_sent(w_global)
        down, up = group.down, group.up
        assert down is not None and up is not None
        sampler = sim.rng(f"client_sampling/{name}")
        per_round = cfg.clients_per_edge_round or len(clients)
        received_any = False
        for k in range(cfg.edge_rounds):
            chosen = sample_clients(sampler, clients, per_round)
            updates = yield from train_clients(self, chosen, w, round, name, down, up,
                                               cfg.deadline_s, stream_key=f"{round}.{k}")
            if not updates:
                continue
            received_any = True
            t0 = sim.now_s
            yield from compute(sim, node, aggregation_flops(world.num_parameters, len(updates)),
                               round=round, what="aggregate", edge_round=k)
            w = weighted_average([u.parameters for u in updates],
                                 [u.num_samples for u in updates])
            sim.trace.record("aggregate", name, t0, sim.now_s, round=round, edge_round=k,
                             models=len(updates), dropped=len(chosen) - len(updates))
        if not received_any:
            return None
        yield from world.channels["edge_cloud_up"].send(name, "cloud", nbytes, round=round)
        samples = sum(world.clients[i].num_samples for i in clients)
        return ClientUpdate(name, world.as_sent(w), samples)
