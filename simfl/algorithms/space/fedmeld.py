"""FedMeld: Gao et al., "FedMeld: A Model-dispersal Federated Learning Framework for
Space-ground Integrated Networks", arXiv 2412.17231.

Regions train with the satellites that serve them; designated store-carry-forward (SCF)
satellites store the model of the last region they served, fly on (time ``T_fly`` from the
real contact plan) and, when they serve another region, mix it in:
``w_j <- (1 - alpha) w_j + alpha w_carried``. Mixing happens at most every
``round_interval`` (delta) region rounds of the receiving region. No ground station and no
inter-satellite link is used. Every mix is recorded in the trace with its staleness: the
receiving region's rounds since the carried model was stored, and the flight time.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import simpy
from pydantic import BaseModel, ConfigDict, Field

from simfl.algorithms.space.mixing import mix
from simfl.algorithms.space.region_fl import RegionFL, RegionFlConfig, RegionState
from simfl.engine.actions import compute
from simfl.engine.contact_schedule import Window
from simfl.engine.simulation import Simulation
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch

    from simfl.scenario.world import World


class ScfConfig(BaseModel):
    """How store-carry-forward satellites are chosen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_plane: int = Field(1, gt=0)
    max_count: int | None = Field(None, gt=0)


class FedMeldConfig(RegionFlConfig):
    """FedMeld (arXiv 2412.17231): store-carry-forward satellites mix region models."""

    name: Literal["fedmeld"] = "fedmeld"
    mixing_ratio: float = Field(0.5, ge=0, le=1)
    round_interval: int = Field(1, gt=0)
    scf: ScfConfig = ScfConfig()


class IsolatedConfig(RegionFlConfig):
    """Isolated regions: per-region FL through serving satellites, no mixing at all."""

    name: Literal["isolated"] = "isolated"


@dataclass(frozen=True)
class Cargo:
    """A region model stored on an SCF satellite."""

    model: torch.Tensor
    region: str
    stored_s: float
    region_round: int


def choose_scf_satellites(plane_of: dict[str, int], per_plane: int,
                          max_count: int | None = None) -> list[str]:
    """Return SCF satellites: ``per_plane`` spread evenly through each plane (name order)."""
    planes: dict[int, list[str]] = {}
    for sat, plane in plane_of.items():
        planes.setdefault(plane, []).append(sat)
    chosen: list[str] = []
    for plane in sorted(planes):
        members = sorted(planes[plane])
        k = min(per_plane, len(members))
        chosen += [members[(i * len(members)) // k] for i in range(k)]
    return chosen[:max_count] if max_count is not None else chosen


@register_algorithm
class FedMeld(RegionFL):
    """Region FL with store-carry-forward mixing by SCF satellites."""

    config_model = FedMeldConfig
    config: FedMeldConfig

    def __init__(self, sim: Simulation, world: World, config: FedMeldConfig) -> None:
        super().__init__(sim, world, config)
        self.scf = set(choose_scf_satellites(self.space.plane_of, config.scf.per_plane,
                                             config.scf.max_count))
        self.cargo: dict[str, Cargo] = {}

    def _wants_mix(self, region: RegionState, satellite: str) -> bool:
        cargo = self.cargo.get(satellite)
        return (
            cargo is not None
            and cargo.region != region.name
            and region.rounds_done - region.last_mix_round >= self.config.round_interval
        )

    def choose_server(self, region: RegionState, t_s: float) -> Window | None:
        """Prefer a visible SCF satellite that carries a model this region should mix in."""
        for w in reversed(self.usable_windows(region, t_s)):
            if w.satellite in self.scf and self._wants_mix(region, w.satellite):
                return w
        return super().choose_server(region, t_s)

    def before_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """Mix the carried model in, if this SCF satellite carries one that is due."""
        if satellite not in self.scf or not self._wants_mix(region, satellite):
            return
        cargo = self.cargo[satellite]
        sim, world = self.sim, self.world
        t0 = sim.now_s
        yield from compute(sim, world.nodes[satellite], 3.0 * world.num_parameters,
                           round=round, what="mix", region=region.name)
        region.model = mix(region.model, cargo.model, self.config.mixing_ratio)
        sim.trace.record("mix", satellite, t0, sim.now_s, peer=f"region:{region.name}",
                         round=round, source_region=cargo.region, target_region=region.name,
                         stored_s=cargo.stored_s, fly_s=t0 - cargo.stored_s,
                         staleness_rounds=region.rounds_since(cargo.stored_s),
                         alpha=self.config.mixing_ratio)
        region.last_mix_round = region.rounds_done

    def after_region_round(
        self, region: RegionState, satellite: str, round: int
    ) -> Generator[simpy.Event, Any, None]:
        """An SCF satellite keeps the latest model of the region it serves, to carry on."""
        if satellite in self.scf:
            self.cargo[satellite] = Cargo(region.model.clone(), region.name, self.sim.now_s,
                                          region.rounds_done)
        return
        yield  # pragma: no cover


@register_algorithm
class IsolatedRegions(RegionFL):
    """The lower bound: region FL through serving satellites, no mixing of any kind."""

    config_model = IsolatedConfig
    config: IsolatedConfig
