"""Zone FL and the timed zone round that SGFusion and its variants share (arXiv 2510.23455).

Nguyen et al., "SGFusion: Stochastic Geographic Gradient Fusion in Federated Learning":
every geographic zone (a client group of ``groups.assignment: zones``: an edge server and
the users who live in the zone) trains its own model. Zone FL, the paper's baseline, runs
one FedAvg round per zone per global round and nothing else.

The fusion algorithms add partners: each round zone ``z`` picks zones ``z'`` (how is the
variant's business, :meth:`ZoneFL.choose_partners`); its current model ``w_z`` travels to
each partner's server over the server-to-server link (``world.groups.peer_link``), is
trained there by that zone's users (one FedAvg round, on the partner's access medium), and
the update ``g_z'`` travels back; with its own update ``g_z`` the zone server computes
attention weights and ``w_z + g_z + sum lambda_z' g_z'`` (:mod:`.fusion`, a ``mix`` event in
the trace). Rounds are synchronous: every zone's round starts from the models of the last
one.

Metrics: each zone model on its users' own test data (node ``zone:<name>``), pooled over
all zones' test targets (node ``personalized``, the headline: there is no global model),
and the mean number of partners per zone and round (node ``sampling``, metric
``sampled_zones``).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import numpy as np
import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.base import Algorithm, sample_clients, train_clients
from simfl.algorithms.geographic.fusion import attention_weights, fused_model
from simfl.engine.actions import compute
from simfl.engine.simulation import Simulation
from simfl.scenario.algorithm_section import RoundsSection
from simfl.scenario.registry import register_algorithm
from simfl.scenario.units import DurationS

if TYPE_CHECKING:
    import torch

    from simfl.scenario.groups import ClientGroup
    from simfl.scenario.world import World

SAMPLING_NODE = "sampling"
"""Metrics node of the partners drawn per round (metric ``sampled_zones``)."""


class ZoneSection(RoundsSection):
    """Settings every zone algorithm shares: users per zone round and a deadline."""

    uses_groups: ClassVar[bool] = True
    personalized: ClassVar[bool] = True
    global_model: ClassVar[bool] = False
    needs_zones: ClassVar[bool] = True

    clients_per_round: int | None = Field(None, gt=0)
    deadline_s: DurationS | None = Field(None, gt=0)


class ZoneFlConfig(ZoneSection):
    """Zone FL (SGFusion's baseline): each zone trains its own model, no fusion."""

    name: Literal["zone_fl"] = "zone_fl"


def fusion_flops(num_parameters: int, num_partners: int) -> float:
    """Return the FLOPs of fusing ``m`` partner updates: ``m`` inner products and weighted
    adds of length P, plus the two model additions (``2 P (2 m + 1)``)."""
    return 2.0 * float(num_parameters) * (2.0 * num_partners + 1.0)


@register_algorithm
class ZoneFL(Algorithm):
    """Per-zone FedAvg; the base of SGFusion and its variants (they add partners)."""

    config_model: ClassVar[type[ZoneSection]] = ZoneFlConfig
    config: ZoneSection

    def __init__(self, sim: Simulation, world: World, config: Any) -> None:
        super().__init__(sim, world, config)
        if world.groups is None or world.layout is None:
            raise ValueError(f"{self.name} needs zone groups (groups.assignment: zones)")
        self.zones: list[ClientGroup] = list(world.groups)
        w0 = world.initial_parameters()
        self.models: list[torch.Tensor] = [w0.clone() for _ in self.zones]
        self.sampled_per_round: list[float] = []

    # -- what variants change -------------------------------------------------------
    def prepare(self) -> Generator[simpy.Event, Any, None]:
        """Run before the first round (variants exchange histograms, fit the HRG)."""
        return
        yield  # pragma: no cover - makes this a generator

    def choose_partners(self, round: int) -> list[np.ndarray]:
        """Return each zone's partner zone indices this round (Zone FL: none)."""
        return [np.zeros(0, dtype=np.int64) for _ in self.zones]

    def skips(self, partners: np.ndarray) -> bool:
        """Return whether a zone sits this round out (the official code skips zones that
        sampled nobody; see the fusion configs)."""
        return False

    def last_only(self) -> bool:
        """Return whether fusion keeps only the last partner's term (the official code)."""
        return False

    def details(self) -> dict[str, Any]:
        """Return what a study needs besides metrics: zone names, positions, partners."""
        assert self.world.layout is not None
        return {"zones": [z.name for z in self.zones],
                "positions_deg": [list(z.position_deg or (0.0, 0.0)) for z in self.zones],
                "mean_sampled_zones": (float(np.mean(self.sampled_per_round))
                                       if self.sampled_per_round else 0.0),
                "country_of": dict(self.world.layout.country_of),
                "true_hierarchy": self.world.layout.hierarchy}

    @classmethod
    def compare_report(cls, runs: Sequence[tuple[str, dict[str, Any]]], scenario: Any,
                       metrics: Any, out_dir: Any) -> str | None:
        """Per-zone tables, zone map, dendrogram and improvement bars of a comparison."""
        from simfl.algorithms.geographic.zone_report import write_zone_report

        return write_zone_report(runs, scenario, metrics, out_dir)

    # -- processes ------------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        """Rounds of every zone's FedAvg round (plus partner rounds and fusion), evaluated."""
        sim, cfg = self.sim, self.config
        if self.evaluate_zones(0):
            return
        yield from self.prepare()
        for r in range(1, cfg.rounds + 1):
            partners = self.choose_partners(r)
            sampled = float(np.mean([len(p) for p in partners]))
            self.sampled_per_round.append(sampled)
            sim.metrics.record(sim.now_s, r, SAMPLING_NODE, {"sampled_zones": sampled})
            procs = [sim.process(self.zone_round(k, partners[k], r))
                     for k in range(len(self.zones))]
            yield sim.env.all_of(procs)
            self.models = [cast("torch.Tensor", p.value) for p in procs]
            self.rounds_completed = r
            due = r % cfg.eval_every_rounds == 0 or r == cfg.rounds
            if due and self.evaluate_zones(r):
                return

    def zone_round(self, k: int, partners: np.ndarray,
                   round: int) -> Generator[simpy.Event, Any, torch.Tensor]:
        """Zone ``k``'s round: own FedAvg round and partner rounds in parallel, then fusion.

        Returns the zone's new model (its old one if no update arrived).
        """
        sim, world = self.sim, self.world
        zone = self.zones[k]
        w = self.models[k]
        if self.skips(partners):
            return w
        own = sim.process(self.fedavg_round(zone, w, round, f"{round}.own"))
        others = [sim.process(self.partner_round(k, int(j), w, round)) for j in partners]
        yield sim.env.all_of([own, *others])
        if own.value is None:
            return w
        g_own = own.value - w
        arrived = [(int(j), p.value) for j, p in zip(partners, others, strict=True)
                   if p.value is not None]
        if not arrived:
            return w + g_own
        updates = [g for _, g in arrived]
        t0 = sim.now_s
        assert zone.server is not None
        yield from compute(sim, world.nodes[zone.server],
                           fusion_flops(world.num_parameters, len(updates)), round=round,
                           what="fuse")
        lam = attention_weights(g_own, updates)
        sim.trace.record("mix", zone.name, t0, sim.now_s, round=round, what="fusion",
                         partners=[self.zones[j].name for j, _ in arrived],
                         attention=[round_weight(float(v)) for v in lam])
        return fused_model(w, g_own, updates, official_last_only=self.last_only())

    def fedavg_round(self, zone: ClientGroup, w: torch.Tensor, round: int,
                     key: str) -> Generator[simpy.Event, Any, torch.Tensor | None]:
        """One FedAvg round of model ``w`` on ``zone``'s users at its server; the average,
        or None if no update arrived. ``key`` names the users' shuffling streams."""
        sim, world, cfg = self.sim, self.world, self.config
        assert zone.server is not None and zone.down is not None and zone.up is not None
        count = cfg.clients_per_round or len(zone.clients)
        chosen = sample_clients(sim.rng(f"client_sampling/{zone.name}"), zone.clients, count)
        updates = yield from train_clients(self, chosen, w, round, zone.server, zone.down,
                                           zone.up, cfg.deadline_s, stream_key=key)
        if not updates:
            return None
        t0 = sim.now_s
        yield from compute(sim, world.nodes[zone.server],
                           aggregation_flops(world.num_parameters, len(updates)), round=round,
                           what="aggregate", key=key)
        avg = weighted_average([u.parameters for u in updates], [u.num_samples for u in updates])
        sim.trace.record("aggregate", zone.server, t0, sim.now_s, round=round, key=key,
                         models=len(updates), dropped=len(chosen) - len(updates))
        return avg

    def partner_round(self, k: int, j: int, w: torch.Tensor,
                      round: int) -> Generator[simpy.Event, Any, torch.Tensor | None]:
        """Zone ``k``'s model trained by zone ``j``'s users: there and back over the
        server-to-server links; returns the update ``g_j`` as zone ``k`` receives it."""
        world = self.world
        assert world.groups is not None
        src, dst = self.zones[k], self.zones[j]
        assert src.server is not None and dst.server is not None
        nbytes = world.payload_bytes
        got = yield from world.groups.peer_link(src.name, dst.name).send(
            src.server, dst.server, nbytes, round=round, what="model", zone=src.name)
        if not got.delivered:
            return None
        w_there = world.as_sent(w)
        avg = yield from self.fedavg_round(dst, w_there, round, f"{round}.{src.name}")
        if avg is None:
            return None
        back = yield from world.groups.peer_link(dst.name, src.name).send(
            dst.server, src.server, nbytes, round=round, what="update", zone=src.name)
        return world.as_sent(avg - w_there) if back.delivered else None

    # -- evaluation -------------------------------------------------------------------
    def evaluate_zones(self, round: int) -> bool:
        """Record every zone model on its users' test data and all of them pooled; return
        True when the run's target is reached."""
        t = self.sim.now_s
        model_of = {}
        for zone, w in zip(self.zones, self.models, strict=True):
            mine = {i: w for i in zone.clients}
            self.sim.metrics.record(t, round, f"zone:{zone.name}",
                                    self.world.evaluate_clients(mine))
            model_of.update(mine)
        pooled = self.evaluate_personalized(model_of, round)
        return self.observe(round, pooled)


def round_weight(value: float) -> float:
    """Return an attention weight rounded for the trace (6 significant digits)."""
    return float(f"{value:.6g}")
