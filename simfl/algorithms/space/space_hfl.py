"""HFL through ground stations: the hierarchical baseline of FedMeld (arXiv 2412.17231).

Hierarchical FL in a space-ground network (the "HFL" of FedMeld's comparisons, after
Razmi et al.'s ground-station-assisted satellite FL): satellites aggregate their region,
relay the region model to a ground station, a cloud averages all regions, and the global
model returns to the regions the same way. What simfl does, on the same world and clock as
:class:`~simfl.algorithms.space.fedmeld.FedMeld`:

- Regions run :class:`~simfl.algorithms.space.region_fl.RegionFL` rounds during passes.
- After every ``region_rounds_per_global`` rounds of a region, the serving satellite puts a
  copy of the region model in its outbox (a newer model of the same region replaces an
  older one). The satellite waits for its own next pass over *any* ground station (the
  contact plan) and uploads it over ``station_down`` (satellite -> station). The station
  forwards it to the cloud over the terrestrial ``edge_cloud_up`` channel. Models whose
  region round the cloud already has are not uploaded (the station tells the satellite).
- Global round k completes on the cloud once it holds, from every region, a model newer
  than the one it used in round k-1: a sample-weighted average (``aggregate`` event on
  ``cloud``, timed by its FLOPs), published as version k and pushed to every station over
  ``edge_cloud_down``. The cloud model is evaluated at publication (metrics node ``cloud``).
- Every satellite that serves regions downloads the newest version at its next station pass
  after publication (``station_up``, station -> satellite). When it next starts a round in a
  region that has not adopted that version yet, the region adopts it: recorded as a ``mix``
  event with ``alpha = 1`` on the satellite (info: version, the region rounds run since the
  region's contribution to that version, the version's age).
- Asynchrony: regions never block on the cloud. They keep training between passes of
  station-visiting satellites, and adopting a global version discards the rounds a region
  ran after its contribution (that loss is recorded as ``staleness_rounds``).

Bytes over ground stations are what FedMeld avoids; they appear per link in
``summary.bytes_by_link`` (``station_down``, ``station_up``, ``edge_cloud_*``). Satellites of
one pass are not modelled as contending for a station's antenna.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.space.region_fl import RegionFL, RegionFlConfig, RegionState
from simfl.engine.actions import compute
from simfl.engine.contact_schedule import ContactSchedule, Window
from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch

    from simfl.scenario.world import World


class SpaceHflConfig(RegionFlConfig):
    """HFL: region models reach a cloud through ground stations during real passes."""

    needs_ground_stations: ClassVar[bool] = True

    name: Literal["space_hfl"] = "space_hfl"
    region_rounds_per_global: int = Field(1, gt=0)


@dataclass(frozen=True)
class Parcel:
    """A region model on its way to the cloud."""

    region: str
    model: torch.Tensor
    region_round: int
    made_s: float


@dataclass(frozen=True)
class GlobalVersion:
    """A global model published by the cloud and the region rounds it was made from."""

    version: int
    model: torch.Tensor
    published_s: float
    region_rounds: dict[str, int]


def next_station_window(
    schedule: ContactSchedule, satellite: str, stations: Sequence[str], t_s: float
) -> Window | None:
    """Return the satellite's window over a ground station open at ``t_s`` or next to open.

    Among open windows the one that stays open longest wins; else the earliest rise (ties:
    station order). None if the plan has no further station window for this satellite.
    """
    best: Window | None = None
    for station in stations:
        w = schedule.next_window(satellite, station, t_s)
        if w is None:
            continue
        if best is None:
            best = w
            continue
        w_start, best_start = max(w.rise_s, t_s), max(best.rise_s, t_s)
        if w_start < best_start or (w_start == best_start and w.set_s > best.set_s):
            best = w
    return best


def global_round_ready(received_rounds: Mapping[str, int], used_rounds: Mapping[str, int]) -> bool:
    """Return whether every region's newest model at the cloud is newer than the one used last."""
    return all(received_rounds.get(r, -1) > used for r, used in used_rounds.items())


@register_algorithm
class SpaceHFL(RegionFL):
    """Region FL whose regions are averaged by a cloud reached through ground stations."""

    config_model = SpaceHflConfig
    config: SpaceHflConfig

    def __init__(self, sim: Simulation, world: World, config: SpaceHflConfig) -> None:
        super().__init__(sim, world, config)
        if not self.space.station_names:
            raise ScenarioError("space.ground_stations: space_hfl relays region models through "
                                "ground stations but none is given; add at least one, e.g. "
                                "[{name: gs0, lat_deg: 48.1, lon_deg: 11.6}]")
        self.stations = list(self.space.station_names)
        w0 = self.regions[next(iter(self.regions))].model.clone()
        zero = {name: 0 for name in self.regions}
        self.versions: list[GlobalVersion] = [GlobalVersion(0, w0, 0.0, dict(zero))]
        self.inbox: dict[str, Parcel] = {}
        self.used_rounds: dict[str, int] = dict(zero)
        self.station_version: dict[str, int] = {s: 0 for s in self.stations}
        self.sat_version: dict[str, int] = {}
        self.region_version: dict[str, int] = dict(zero)
        self.outbox: dict[str, dict[str, Parcel]] = {}
        self._couriers: set[str] = set()
        self._wake: dict[str, simpy.Event] = {}
        self._cloud_busy = False
        self.stranded: set[str] = set()
        plan = self.space.plan
        region_sites = plan["site"].isin(self.space.region_names)
        self.serving_satellites = sorted(set(plan.loc[region_sites, "satellite"].astype(str)))

    # -- regions -----------------------------------------------------------------------
    def before_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Adopt the global version the serving satellite carries, if the region lacks it."""
        version = self.sat_version.get(satellite, 0)
        if version <= self.region_version[region.name]:
            return
        g = self.versions[version]
        t = self.sim.now_s
        contributed = g.region_rounds[region.name]
        region.model = self.world.as_sent(g.model).clone()
        self.region_version[region.name] = version
        self.sim.trace.record("mix", satellite, t, t, peer=f"region:{region.name}", round=round,
                              source_region="cloud", target_region=region.name,
                              version=version, alpha=1.0, age_s=t - g.published_s,
                              staleness_rounds=region.rounds_done - contributed)
        return
        yield  # pragma: no cover

    def after_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Every ``region_rounds_per_global`` rounds, hand the region model to the satellite."""
        if (region.rounds_done % self.config.region_rounds_per_global == 0
                and satellite not in self.stranded):
            parcel = Parcel(region.name, region.model.clone(), region.rounds_done,
                            self.sim.now_s)
            self.outbox.setdefault(satellite, {})[region.name] = parcel
            self._notify(satellite)
        return
        yield  # pragma: no cover

    # -- satellites --------------------------------------------------------------------
    def _has_work(self, sat: str) -> bool:
        if sat in self.stranded:
            return False
        behind = self.sat_version.get(sat, 0) < self.versions[-1].version
        return bool(self.outbox.get(sat)) or behind

    def _notify(self, sat: str) -> None:
        """Wake the satellite's courier, or start one."""
        if sat in self._couriers:
            wake = self._wake.get(sat)
            if wake is not None and not wake.triggered:
                wake.succeed()
            return
        self._couriers.add(sat)
        self.sim.process(self.courier(sat))

    def courier(self, sat: str) -> Generator[simpy.Event, Any, None]:
        """Carry the outbox to ground stations and fetch new global versions, pass by pass."""
        sim = self.sim
        try:
            while self._has_work(sat):
                w = next_station_window(self.space.schedule, sat, self.stations, sim.now_s)
                if w is None:
                    self._strand(sat)
                    return
                if w.rise_s > sim.now_s:
                    t0 = sim.now_s
                    yield sim.env.timeout(w.rise_s - t0)
                    sim.trace.record("wait", sat, t0, sim.now_s, peer=w.site, what="station")
                    continue
                moved = yield from self.exchange_at_station(sat, w)
                if not moved and self._has_work(sat):
                    # in a pass with nothing to do yet: wait for news or for the pass to end
                    wake = self._wake[sat] = sim.env.event()
                    yield sim.env.any_of([wake, sim.env.timeout(w.set_s - sim.now_s)])
        finally:
            self._couriers.discard(sat)
            self._wake.pop(sat, None)

    def _strand(self, sat: str) -> None:
        """Drop what a satellite can no longer deliver (no station pass left in the plan);
        it takes no more parcels."""
        self.stranded.add(sat)
        parcels = self.outbox.pop(sat, {})
        t = self.sim.now_s
        if parcels:
            self.sim.trace.record("drop", sat, t, t, what="relay",
                                  regions={p.region: p.region_round for p in parcels.values()},
                                  reason="no further ground-station contact in the plan")

    def exchange_at_station(self, sat: str, w: Window) -> Generator[simpy.Event, Any, bool]:
        """Upload the outbox, then download a newer global version; True if bytes moved."""
        sim, payload = self.sim, self.world.payload_bytes
        moved = False
        box = self.outbox.setdefault(sat, {})
        while box:
            parcel = box.pop(min(box))
            if parcel.region_round <= self._received_round(parcel.region):
                continue  # the cloud has this model or a newer one of that region
            moved = True
            done = yield from self.space.station_down.send(
                sat, w.site, payload, satellite=sat, site=w.site, round=parcel.region_round,
                what="relay", region=parcel.region)
            if not done.delivered:  # cut off at the window's end: try again at the next pass
                box.setdefault(parcel.region, parcel)
                return True
            sim.process(self.forward_to_cloud(w.site, parcel))
        version = self.station_version[w.site]
        if version > self.sat_version.get(sat, 0):
            moved = True
            done = yield from self.space.station_up.send(
                w.site, sat, payload, satellite=sat, site=w.site, round=version,
                what="global", version=version)
            if done.delivered:
                self.sat_version[sat] = max(version, self.sat_version.get(sat, 0))
        return moved

    # -- ground ------------------------------------------------------------------------
    def _received_round(self, region: str) -> int:
        parcel = self.inbox.get(region)
        return parcel.region_round if parcel is not None else self.used_rounds[region]

    def forward_to_cloud(self, station: str, parcel: Parcel) -> Generator[simpy.Event, Any, None]:
        """Station -> cloud over the terrestrial channel; then try a global round."""
        yield from self.world.channels["edge_cloud_up"].send(
            station, "cloud", self.world.payload_bytes, round=parcel.region_round,
            what="relay", region=parcel.region)
        if parcel.region_round > self._received_round(parcel.region):
            self.inbox[parcel.region] = parcel
        yield from self.global_rounds()

    def global_rounds(self) -> Generator[simpy.Event, Any, None]:
        """Run global rounds on the cloud while every region has sent a newer model."""
        if self._cloud_busy:
            return
        self._cloud_busy = True
        sim, world = self.sim, self.world
        try:
            while global_round_ready(
                {r: p.region_round for r, p in self.inbox.items()}, self.used_rounds
            ):
                parcels = [self.inbox[r] for r in self.regions]
                version = self.versions[-1].version + 1
                t0 = sim.now_s
                yield from compute(sim, world.nodes["cloud"],
                                   aggregation_flops(world.num_parameters, len(parcels)),
                                   round=version, what="aggregate")
                model = weighted_average([world.as_sent(p.model) for p in parcels],
                                         [self.regions[p.region].num_samples for p in parcels])
                rounds = {p.region: p.region_round for p in parcels}
                self.versions.append(GlobalVersion(version, model, sim.now_s, rounds))
                self.used_rounds = dict(rounds)
                sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=version,
                                 models=len(parcels), region_rounds=rounds,
                                 oldest_s=min(p.made_s for p in parcels))
                sim.metrics.record(sim.now_s, version, "cloud", world.evaluate(model))
                sim.trace.record("evaluate", "cloud", sim.now_s, sim.now_s, round=version,
                                 flops=world.eval_flops_per_sample * len(world.test_y))
                for station in self.stations:
                    sim.process(self.push_to_station(station, version))
        finally:
            self._cloud_busy = False

    def push_to_station(self, station: str, version: int) -> Generator[simpy.Event, Any, None]:
        """Cloud -> station over the terrestrial channel; wake satellites that need it."""
        yield from self.world.channels["edge_cloud_down"].send(
            "cloud", station, self.world.payload_bytes, round=version, what="global",
            version=version)
        if version > self.station_version[station]:
            self.station_version[station] = version
        for sat in self.serving_satellites:
            if self._has_work(sat):
                self._notify(sat)
