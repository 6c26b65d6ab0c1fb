"""Ring-Allreduce over inter-satellite links: a baseline of FedMeld (arXiv 2412.17231).

FedMeld compares with Ring-Allreduce (the bandwidth-optimal allreduce of Patarasuk and
Yuan, used in decentralized FL): the satellites serving the regions, in one orbital plane,
average the region models over ISLs. What simfl does, on the same world and clock as
:class:`~simfl.algorithms.space.fedmeld.FedMeld`:

- Regions run :class:`~simfl.algorithms.space.region_fl.RegionFL` rounds during passes.
- When every region has completed a new round since the last allreduce, an allreduce is
  attempted at that round's end, and again at every later region round's end until one
  succeeds. It succeeds when, at that instant, every region is being served (its satellite
  above its mask), all serving satellites belong to ONE orbital plane (``space.plane_of``),
  and they are ring-connected: ordered by their angle along the orbit (in-plane position),
  each serving satellite reaches the next (cyclically) either by a direct ISL
  (``space.isl_visible`` within ``space.isl.max_range_km``) or, if that is blocked, through
  the plane's satellites between them, every hop ISL-visible (intra-plane relays).
- The allreduce of N distinct serving satellites takes 2(N-1) synchronous steps (reduce-
  scatter then allgather); in each step every satellite sends one chunk (the payload split
  in N nearly equal parts) to the next, store-and-forward over relays, each hop timed as
  ``space.isl.latency_s`` + bytes / ``space.isl.rate_bps``. Every ring hop thus carries
  2(N-1)/N of a model. Each transfer is in the trace (``isl`` link, ``what="allreduce"``).
  Regions served by one satellite are combined on it first; N = 1 needs no transfer.
- Every region model becomes the sample-weighted average of the region models as they were
  when the allreduce started (applied as a delta, see :mod:`simfl.algorithms.space.parallel_fl`).
  One ``aggregate`` event per allreduce (``what="allreduce"``) on the ring's first satellite,
  with the satellites, plane, relay hops and failed attempts since the last allreduce.
- The counts of allreduces and failed attempts are recorded as metrics of node
  ``ring_allreduce`` at every evaluation. If the geometry never holds (few satellites per
  plane, regions not along one plane's track), no allreduce happens and the regions stay
  isolated; the counts say so.

Visibility is checked when an allreduce starts (it lasts well under a second at ISL rates).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy

from simfl.algorithms.aggregate import weighted_average
from simfl.algorithms.space.parallel_fl import IslRegionFL
from simfl.algorithms.space.region_fl import RegionFlConfig, RegionState
from simfl.engine.actions import compute
from simfl.engine.simulation import Simulation
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:

    from simfl.scenario.world import World


@dataclass(frozen=True)
class Ring:
    """Serving satellites of one plane in ring order, and the ISL path of each ring hop."""

    plane: int
    satellites: list[str]
    paths: list[list[str]]
    regions_of: dict[str, list[str]]

    @property
    def relay_hops(self) -> int:
        """Return how many ISL hops go through satellites that serve no region."""
        return sum(len(p) - 2 for p in self.paths)


def in_plane_order(r_km: np.ndarray, v_kms: np.ndarray) -> list[int]:
    """Return indices of satellites of one plane sorted by their angle along the orbit.

    Parameters
    ----------
    r_km, v_kms
        Positions and velocities at one instant, shape (n, 3) (Earth-fixed is fine: the
        positions are coplanar and the Earth-rotation part of ``r x v`` is small, so the
        cyclic order about the mean angular momentum is the in-plane order).

    The order starts at satellite 0 and follows the direction of motion.
    """
    h = np.cross(r_km, v_kms)
    normal = (h / np.linalg.norm(h, axis=1, keepdims=True)).sum(axis=0)
    normal /= np.linalg.norm(normal)
    e1 = r_km[0] - np.dot(r_km[0], normal) * normal
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    angle = np.mod(np.arctan2(r_km @ e2, r_km @ e1), 2 * np.pi)
    return [int(i) for i in np.argsort(angle, kind="stable")]


def ring_paths(
    members: Sequence[str], serving: Sequence[str], visible: Callable[[str, str], bool]
) -> list[list[str]] | None:
    """Return the ISL path of each ring hop ``serving[i] -> serving[i+1]`` (cyclic), or None.

    ``members`` is the plane in in-plane order; ``serving`` is ordered the same way. A hop
    is direct if ``visible``; otherwise it runs forward through the members between the two,
    every hop visible. None if some hop cannot be made. One satellite: no hops.
    """
    n = len(serving)
    if n < 2:
        return []
    pos = {m: k for k, m in enumerate(members)}
    paths: list[list[str]] = []
    for i in range(n):
        a, b = serving[i], serving[(i + 1) % n]
        if visible(a, b):
            paths.append([a, b])
            continue
        path = [a]
        k = pos[a]
        while path[-1] != b:
            k = (k + 1) % len(members)
            path.append(members[k])
        if not all(visible(x, y) for x, y in pairwise(path)):
            return None
        paths.append(path)
    return paths


def ring_allreduce_bytes(payload_bytes: int, n: int) -> np.ndarray:
    """Return the bytes node i sends to node i+1 at each step, shape (2(n-1), n).

    The payload is split in ``n`` chunks of nearly equal size. Reduce-scatter step s: node
    i sends chunk ``(i - s) mod n``; allgather step s: chunk ``(i + 1 - s) mod n``. Each node
    sends 2(n-1)/n of the payload in total (within two bytes).
    """
    base, extra = divmod(int(payload_bytes), n)  # as np.array_split: the first `extra` get +1
    chunks = np.array([base + 1 if i < extra else base for i in range(n)], dtype=int)
    nodes = np.arange(n)
    steps = [chunks[(nodes - s) % n] for s in range(n - 1)]
    steps += [chunks[(nodes + 1 - s) % n] for s in range(n - 1)]
    return np.array(steps, dtype=int).reshape(2 * (n - 1), n)


def ring_reduce_flops(num_parameters: int, local_models: int, ring_size: int) -> float:
    """Return one satellite's FLOPs: weight its local models, add the received chunks."""
    received = float(num_parameters) * (ring_size - 1) / ring_size
    return 2.0 * float(num_parameters) * local_models + received


class RingAllreduceConfig(RegionFlConfig):
    """Ring-Allreduce over inter-satellite links between the satellites serving the regions."""

    name: Literal["ring_allreduce"] = "ring_allreduce"


@register_algorithm
class RingAllreduce(IslRegionFL):
    """Region FL with ring allreduces over ISLs when one plane serves every region."""

    config_model = RingAllreduceConfig
    config: RingAllreduceConfig

    def __init__(self, sim: Simulation, world: World, config: RingAllreduceConfig) -> None:
        super().__init__(sim, world, config)
        self._fresh: set[str] = set()
        self._busy = False
        self.allreduces = 0
        self.attempts_failed = 0
        self._failed_since_last = 0
        self._ready_since_s: float | None = None

    def find_ring(self, t_s: float) -> Ring | None:
        """Return the ring of serving satellites at ``t_s``, or None if the geometry fails."""
        servers: dict[str, list[str]] = {}
        for region in self.regions.values():
            sat = self.served_by(region, t_s)
            if sat is None:
                return None
            servers.setdefault(sat, []).append(region.name)
        planes = {self.space.plane_of[s] for s in servers}
        if len(planes) != 1:
            return None
        plane = planes.pop()
        names = sorted(s for s, p in self.space.plane_of.items() if p == plane)
        from simfl.orbits.propagate import propagate_ecef

        states = propagate_ecef([self.space.elements[s] for s in names], self.space.epoch_utc,
                                np.array([t_s]))
        members = [names[k] for k in in_plane_order(states.r_km[:, 0], states.v_kms[:, 0])]
        serving = [m for m in members if m in servers]
        paths = ring_paths(members, serving, lambda a, b: self.isl_visible(a, b, t_s))
        if paths is None:
            return None
        return Ring(plane, serving, paths, servers)

    def exchange_after_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Attempt an allreduce once every region has a new round."""
        self._fresh.add(region.name)
        if self._busy or len(self._fresh) < len(self.regions):
            return
        if self._ready_since_s is None:
            self._ready_since_s = self.sim.now_s
        ring = self.find_ring(self.sim.now_s)
        if ring is None:
            self.attempts_failed += 1
            self._failed_since_last += 1
            return
        self._busy = True
        try:
            yield from self.allreduce(ring)
        finally:
            self._busy = False

    def allreduce(self, ring: Ring) -> Generator[simpy.Event, Any, None]:
        """Run one timed ring allreduce and average every region model."""
        sim, world = self.sim, self.world
        t0 = sim.now_s
        index = self.allreduces + 1
        snapshot = {name: world.as_sent(r.model) for name, r in self.regions.items()}
        self._fresh = set()
        n = len(ring.satellites)
        if n > 1:
            table = ring_allreduce_bytes(world.payload_bytes, n)
            for step in range(table.shape[0]):
                hops = [sim.process(self._hop(ring.paths[i], int(table[step, i]), index, step))
                        for i in range(n)]
                yield sim.env.all_of(hops)
        works = [sim.process(compute(sim, world.nodes[sat], ring_reduce_flops(
                    world.num_parameters, len(ring.regions_of[sat]), n), round=index,
                    what="allreduce")) for sat in ring.satellites]
        yield sim.env.all_of(works)
        average = weighted_average(list(snapshot.values()),
                                   [r.num_samples for r in self.regions.values()])
        for name, region in self.regions.items():
            self.apply_delta(region, average - snapshot[name])
        self.allreduces = index
        sim.trace.record("aggregate", ring.satellites[0], t0, sim.now_s, round=index,
                         what="allreduce", plane=ring.plane, satellites=ring.satellites,
                         regions_of=ring.regions_of, ring_size=n, relay_hops=ring.relay_hops,
                         attempts_failed=self._failed_since_last,
                         ready_wait_s=t0 - (self._ready_since_s or t0))
        self._failed_since_last = 0
        self._ready_since_s = None

    def _hop(self, path: list[str], nbytes: int, index: int,
             step: int) -> Generator[simpy.Event, Any, None]:
        """Move one chunk along a ring hop, store-and-forward over relays."""
        for a, b in pairwise(path):
            yield from self.isl.send(a, b, nbytes, round=index, what="allreduce", step=step,
                                     ring_hop=f"{path[0]}->{path[-1]}")

    def evaluate_regions(self, tick: int) -> None:
        """Record region metrics, plus the allreduce counts (node ``ring_allreduce``)."""
        super().evaluate_regions(tick)
        self.sim.metrics.record(self.sim.now_s, tick, "ring_allreduce",
                                {"allreduces": float(self.allreduces),
                                 "attempts_failed": float(self.attempts_failed)})
