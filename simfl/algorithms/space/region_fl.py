"""Region FL over satellites: what FedMeld and its baselines share.

Each ground region runs FL rounds while a satellite serves it (from the contact plan):
the serving satellite broadcasts the region model to the region's devices over the
contact-limited link, they train (real torch), upload, and the satellite aggregates
(FedAvg). Rounds continue back to back while the pass lasts; between passes the region
waits. Subclasses decide which visible satellite serves (:meth:`choose_server`) and what
happens after each region round (:meth:`after_region_round`: mixing, gossip, relaying).

A periodic evaluator records every region model's test metrics (node ``region:<name>``),
their mean (node ``region_mean``: there is no global model), the sample-weighted average of
the region models (node ``consensus``), and each region model on its own devices' test data,
pooled (node ``personalized``).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.base import Algorithm, sample_clients, train_clients
from simfl.engine.actions import compute
from simfl.engine.contact_schedule import Window
from simfl.engine.simulation import Simulation
from simfl.scenario.algorithm_section import AlgorithmSection
from simfl.scenario.units import DurationS

if TYPE_CHECKING:
    import torch

    from simfl.scenario.space_world import SpaceWorld
    from simfl.scenario.world import World


class RegionFlConfig(AlgorithmSection):
    """Settings the region algorithms share: a simulated-time budget and evaluation period."""

    needs_space: ClassVar[bool] = True
    personalized: ClassVar[bool] = True
    global_model: ClassVar[bool] = False

    duration_s: DurationS = Field(12 * 3600.0, gt=0)
    eval_every_s: DurationS = Field(1800.0, gt=0)
    clients_per_round: int | None = Field(None, gt=0)
    min_window_s: DurationS = Field(0.0, ge=0)

    @property
    def rounds(self) -> int:
        """Return the number of evaluation ticks (the progress bar's length)."""
        return max(1, math.ceil(self.duration_s / self.eval_every_s))

    def progress_total(self) -> int:
        """Return the number of evaluation ticks."""
        return self.rounds

    def progress_unit(self) -> str:
        """Return ``"eval"``: the bar counts evaluation ticks of the time budget."""
        return "eval"

    def budget_text(self) -> str:
        """Return the simulated-time budget in hours."""
        return f"{self.duration_s / 3600:g} h simulated"


@dataclass
class RegionState:
    """A region's model and history."""

    name: str
    clients: list[int]
    model: torch.Tensor
    num_samples: int
    rounds_done: int = 0
    round_end_times_s: list[float] = field(default_factory=list)
    last_mix_round: int = 0
    server: str | None = None

    def rounds_since(self, t_s: float) -> int:
        """Return how many region rounds ended after ``t_s`` (the staleness of a model)."""
        return sum(1 for t in self.round_end_times_s if t > t_s)


class RegionFL(Algorithm):
    """Base of the space-ground algorithms: region rounds during passes, evaluation."""

    def __init__(self, sim: Simulation, world: World, config: Any) -> None:
        super().__init__(sim, world, config)
        if world.space is None:
            raise ValueError(f"{self.name} needs a space world")
        self.space: SpaceWorld = world.space
        w0 = world.initial_parameters()
        self.regions: dict[str, RegionState] = {}
        assert world.groups is not None
        for group in world.groups:
            samples = sum(world.clients[i].num_samples for i in group.clients)
            self.regions[group.name] = RegionState(group.name, list(group.clients), w0.clone(),
                                                   samples)
        self.sampler = {name: sim.rng(f"client_sampling/{name}") for name in self.regions}
        self._target_reached = sim.env.event()

    # -- hooks -------------------------------------------------------------------------
    def choose_server(self, region: RegionState, t_s: float) -> Window | None:
        """Return the window of the satellite that serves ``region`` next (default: keep the
        current server while it is visible, else the visible one that stays longest, else
        the next to rise)."""
        schedule = self.space.schedule
        open_now = self.usable_windows(region, t_s)
        for w in open_now:
            if w.satellite == region.server:
                return w
        if open_now:
            return open_now[-1]
        return schedule.next_window(None, region.name, t_s)

    def usable_windows(self, region: RegionState, t_s: float) -> list[Window]:
        """Return the windows open over ``region`` at ``t_s`` with at least ``min_window_s``
        left, ordered by set time."""
        return [w for w in self.space.schedule.open_windows(region.name, t_s)
                if w.set_s - t_s >= self.config.min_window_s]

    def before_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Run when a satellite is about to serve a round (e.g. mix a carried model)."""
        return
        yield  # pragma: no cover - makes this a generator

    def after_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Run after each completed region round (mixing, gossip, relays); default nothing."""
        return
        yield  # pragma: no cover - makes this a generator

    # -- processes ---------------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        """Start the region processes and the evaluator; end after ``duration_s``."""
        for region in self.regions.values():
            self.sim.process(self.region_process(region))
        self.sim.process(self.evaluator())
        self.start_extra_processes()
        yield self.sim.env.any_of([self.sim.env.timeout(self.config.duration_s),
                                   self._target_reached])
        if not self._target_reached.triggered:
            self.evaluate_regions(self.config.rounds)

    def start_extra_processes(self) -> None:
        """Start processes a subclass needs besides regions and the evaluator."""

    def region_process(self, region: RegionState) -> Generator[simpy.Event, Any, None]:
        """A region's life: wait for a serving satellite, run rounds during the pass."""
        sim = self.sim
        while True:
            window = self.choose_server(region, sim.now_s)
            if window is None:
                return
            if window.rise_s > sim.now_s:
                t0 = sim.now_s
                yield sim.env.timeout(window.rise_s - t0)
                sim.trace.record("wait", f"region:{region.name}", t0, sim.now_s,
                                 peer=window.satellite, what="contact")
                continue  # re-choose: another satellite may have risen meanwhile
            if window.set_s - sim.now_s < self.config.min_window_s:
                yield sim.env.timeout(window.set_s - sim.now_s)
                continue
            region.server = window.satellite
            ok = yield from self.region_round(region, window)
            if not ok:
                # nothing came back before the window closed: wait for the next satellite
                if sim.now_s < window.set_s:
                    yield sim.env.timeout(window.set_s - sim.now_s)
                region.server = None

    def region_round(
        self, region: RegionState, window: Window
    ) -> Generator[simpy.Event, Any, bool]:
        """One FL round of ``region`` served by ``window.satellite``; True if it aggregated."""
        sim, world = self.sim, self.world
        sat = window.satellite
        round_no = region.rounds_done + 1
        count = self.config.clients_per_round or len(region.clients)
        chosen = sample_clients(self.sampler[region.name], region.clients, count)
        down = self.space.region_down.bound(sat, region.name)
        up = self.space.region_up.bound(sat, region.name)
        yield from self.before_region_round(region, sat, round_no)
        deadline = window.set_s - sim.now_s
        if deadline <= 0:
            return False
        updates = yield from train_clients(self, chosen, region.model, round_no, sat,
                                           down, up, deadline)
        if not updates:
            return False
        t0 = sim.now_s
        yield from compute(sim, world.nodes[sat], aggregation_flops(world.num_parameters,
                                                                     len(updates)),
                           round=round_no, what="aggregate", region=region.name)
        region.model = weighted_average([u.parameters for u in updates],
                                        [u.num_samples for u in updates])
        region.rounds_done = round_no
        region.round_end_times_s.append(sim.now_s)
        self.rounds_completed += 1
        sim.trace.record("aggregate", sat, t0, sim.now_s, round=round_no, region=region.name,
                         models=len(updates), dropped=len(chosen) - len(updates))
        yield from self.after_region_round(region, sat, round_no)
        return True

    def evaluator(self) -> Generator[simpy.Event, Any, None]:
        """Evaluate every region model every ``eval_every_s`` of simulated time."""
        tick = 0
        self.evaluate_regions(tick)
        while True:
            yield self.sim.env.timeout(self.config.eval_every_s)
            tick += 1
            if self.sim.now_s >= self.config.duration_s:
                return
            self.evaluate_regions(tick)

    def evaluate_regions(self, tick: int) -> None:
        """Record per-region, ``region_mean``, ``consensus`` and ``personalized`` metrics now."""
        t = self.sim.now_s
        per_region = {}
        regions = list(self.regions.values())
        for region, values in zip(regions, self.world.evaluate_many([r.model for r in regions]),
                                  strict=True):
            per_region[region.name] = values
            self.sim.metrics.record(t, region.rounds_done, f"region:{region.name}", values)
        keys = next(iter(per_region.values())).keys()
        mean = {k: sum(v[k] for v in per_region.values()) / len(per_region) for k in keys}
        consensus = weighted_average([r.model for r in self.regions.values()],
                                     [r.num_samples for r in self.regions.values()])
        self.evaluate_global(consensus, tick, node="consensus", watched=False)
        self.sim.metrics.record(t, tick, "region_mean", mean)
        self.evaluate_personalized({i: r.model for r in self.regions.values()
                                    for i in r.clients}, tick)
        # the target (stop.target_accuracy) applies to the mean, as final_metrics do
        if self.observe(tick, mean) and not self._target_reached.triggered:
            self._target_reached.succeed()
