"""Parallel FL over inter-satellite links: the decentralized baseline of FedMeld.

FedMeld (arXiv 2412.17231) compares with "Parallel FL": per-region FL whose parameter
servers average their models with neighbouring servers every round (decentralized
gossip, as in multi-server / parallel FL). What simfl does, on the same world and clock as
:class:`~simfl.algorithms.space.fedmeld.FedMeld`:

- Regions run :class:`~simfl.algorithms.space.region_fl.RegionFL` rounds during passes.
- After each round of region i, its serving satellite exchanges models with the serving
  satellites of the ``neighbours`` regions on each side of i (region order in the scenario,
  wrapping), if that region is being served right now (its satellite above its mask) and
  the two satellites are ISL-visible now (``space.isl.max_range_km``, Earth not in the way).
  Both directions are timed ISL transfers (``isl`` link: ``space.isl.latency_s`` + bytes /
  ``space.isl.rate_bps``, one dedicated link per satellite pair). A satellite serving both
  regions exchanges without a transfer. Visibility is checked when the exchange starts.
- The exchange is symmetric gossip: region i becomes the sample-weighted average of its own
  model and every neighbour model it received; each neighbour j becomes the sample-weighted
  average of its model and region i's (``aggregate`` events, ``what="gossip"``).

Exchanges change a region's model while that region may be in the middle of a round whose
clients train from the older model. Here and in the Ring-Allreduce baseline such a change is
applied as a delta: the region model gets ``new - old`` at once, and a round in progress gets
the same delta added to its result when it ends (the server-side ``w <- w + delta`` of FedAvg),
so neither the exchange nor the round is lost.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.space.region_fl import RegionFL, RegionFlConfig, RegionState
from simfl.engine.actions import compute
from simfl.engine.channel import Channel
from simfl.engine.simulation import Simulation
from simfl.network.link import Link
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch

    from simfl.scenario.world import World


def neighbour_indices(count: int, index: int, neighbours: int) -> list[int]:
    """Return the indices of the regions within ``neighbours`` of ``index`` on a ring of
    ``count`` regions, nearest first (left before right), without ``index`` or repeats."""
    out: list[int] = []
    for d in range(1, neighbours + 1):
        for j in ((index - d) % count, (index + d) % count):
            if j != index and j not in out:
                out.append(j)
    return out


class ParallelFlConfig(RegionFlConfig):
    """Parallel FL: serving satellites gossip region models with neighbours over ISLs."""

    name: Literal["parallel_fl"] = "parallel_fl"
    neighbours: int = Field(1, gt=0)


class IslRegionFL(RegionFL):
    """Region FL whose serving satellites exchange models over inter-satellite links.

    Gives the ISL channel, "who serves region r now", ISL visibility, and model changes that
    are safe against rounds in progress (:meth:`apply_delta`). Subclasses implement
    :meth:`exchange_after_round`.
    """

    def __init__(self, sim: Simulation, world: World, config: Any) -> None:
        super().__init__(sim, world, config)
        isl = world.scenario.space.isl if world.scenario.space is not None else None
        assert isl is not None  # RegionFL checked that the world has a space part
        self.isl_max_range_km = float(isl.max_range_km)
        self.isl = Channel(sim, "isl", Link(isl.latency_s, isl.rate_bps, "dedicated"))
        self._in_round: dict[str, torch.Tensor | None] = {}
        # one exchange at a time per region, so overlapping exchanges never apply deltas
        # computed from the same old models twice
        self.exchange_locks = {name: simpy.Resource(sim.env, capacity=1)
                               for name in self.regions}

    def lock_regions(
        self, names: list[str]
    ) -> Generator[simpy.Event, Any, list[tuple[str, simpy.Resource, Any]]]:
        """Acquire the exchange locks of ``names`` in name order (no deadlock); return them."""
        held = []
        for name in sorted(set(names)):
            lock = self.exchange_locks[name]
            request = lock.request()
            yield request
            held.append((name, lock, request))
        return held

    @staticmethod
    def unlock_regions(held: list[tuple[str, simpy.Resource, Any]]) -> None:
        """Release locks taken by :meth:`lock_regions`."""
        for _name, lock, request in held:
            lock.release(request)

    def served_by(self, region: RegionState, t_s: float) -> str | None:
        """Return the satellite serving ``region`` at ``t_s`` (above its mask), or None."""
        sat = region.server
        if sat is None or not self.space.schedule.visible(sat, region.name, t_s):
            return None
        return sat

    def isl_visible(self, a: str, b: str, t_s: float) -> bool:
        """Return whether satellites ``a`` and ``b`` can link at ``t_s``."""
        return self.space.isl_visible(a, b, t_s, self.isl_max_range_km)

    def apply_delta(self, region: RegionState, delta: torch.Tensor) -> None:
        """Add ``delta`` to the region model, and to the result of its round in progress."""
        region.model = region.model + delta
        if region.name in self._in_round:
            pending = self._in_round[region.name]
            self._in_round[region.name] = delta if pending is None else pending + delta

    def before_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Mark the region as in a round (its clients train from the model as it is now)."""
        self._in_round[region.name] = None
        return
        yield  # pragma: no cover

    def after_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Add exchange deltas that arrived during the round, then exchange."""
        pending = self._in_round.pop(region.name, None)
        if pending is not None:
            region.model = region.model + pending
        yield from self.exchange_after_round(region, satellite, round)

    def exchange_after_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Exchange models after a round of ``region`` (subclasses)."""
        raise NotImplementedError
        yield  # pragma: no cover


@register_algorithm
class ParallelFL(IslRegionFL):
    """Region FL with gossip between neighbouring regions' serving satellites over ISLs."""

    config_model = ParallelFlConfig
    config: ParallelFlConfig

    def __init__(self, sim: Simulation, world: World, config: ParallelFlConfig) -> None:
        super().__init__(sim, world, config)
        self.order = list(self.regions)

    def exchange_after_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Swap models with reachable neighbours' servers; both sides average."""
        sim, world = self.sim, self.world
        t0 = sim.now_s
        index = self.order.index(region.name)
        partners: list[tuple[RegionState, str]] = []
        for j in neighbour_indices(len(self.order), index, self.config.neighbours):
            other = self.regions[self.order[j]]
            sat = self.served_by(other, t0)
            if sat is not None and (sat == satellite or self.isl_visible(satellite, sat, t0)):
                partners.append((other, sat))
        if not partners:
            return
        held = yield from self.lock_regions([region.name, *(o.name for o, _ in partners)])
        try:
            mine = world.as_sent(region.model)
            theirs = [world.as_sent(other.model) for other, _ in partners]
            swaps = [sim.process(self._swap(region, satellite, other, sat, round))
                     for other, sat in partners if sat != satellite]
            if swaps:
                yield sim.env.all_of(swaps)
            # region i: own model and everything received
            models = [mine, *theirs]
            weights = [region.num_samples, *(o.num_samples for o, _ in partners)]
            yield from self._average(region, satellite, models, weights, mine, round,
                                     [o.name for o, _ in partners])
            for (other, sat), model in zip(partners, theirs, strict=True):
                yield from self._average(other, sat, [model, mine],
                                         [other.num_samples, region.num_samples], model,
                                         round, [region.name])
        finally:
            self.unlock_regions(held)

    def _swap(self, region: RegionState, sat: str, other: RegionState, other_sat: str,
              round: int) -> Generator[simpy.Event, Any, None]:
        """Both directions of one exchange, at the same time."""
        nbytes = self.world.payload_bytes
        there = self.sim.process(self.isl.send(sat, other_sat, nbytes, round=round,
                                               what="gossip", region=region.name,
                                               peer_region=other.name))
        back = self.sim.process(self.isl.send(other_sat, sat, nbytes, round=round,
                                              what="gossip", region=other.name,
                                              peer_region=region.name))
        yield self.sim.env.all_of([there, back])

    def _average(self, region: RegionState, sat: str, models: list[torch.Tensor],
                 weights: list[int], before: torch.Tensor, round: int,
                 partners: list[str]) -> Generator[simpy.Event, Any, None]:
        """Average on ``sat`` and apply the change to ``region`` as a delta."""
        sim, world = self.sim, self.world
        t0 = sim.now_s
        yield from compute(sim, world.nodes[sat],
                           aggregation_flops(world.num_parameters, len(models)), round=round,
                           what="gossip", region=region.name)
        new = weighted_average(models, weights)
        self.apply_delta(region, new - before)
        sim.trace.record("aggregate", sat, t0, sim.now_s, round=round, region=region.name,
                         what="gossip", partners=partners, models=len(models))
