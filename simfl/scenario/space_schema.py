"""Scenario sections of the space-ground world: constellation, regions, stations, links.

Present only in scenarios whose algorithm uses satellites (FedMeld and its baselines).
Contacts are computed from the constellation for ``horizon_s`` from the scenario epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simfl.scenario import rules
from simfl.scenario.units import DistanceKm, DurationS, FlopsPerS, FrequencyHz, RateBps

MAX_COARSE_STEP_S = 120.0
"""The contact search's largest step (:data:`simfl.orbits.contacts.MAX_COARSE_STEP_S`)."""
MAX_HORIZON_S = 366 * 86400.0
"""A contact plan spans at most a year: SGP4 element sets degrade within days anyway."""


def _raise(messages: list[str]) -> None:
    if messages:
        raise ValueError(rules.RULE_SEPARATOR.join(messages))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WalkerConfig(_Section):
    """A Walker-delta shell i:T/P/F generated at the scenario epoch."""

    inclination_deg: float = Field(ge=0, le=180)
    satellites: int = Field(gt=0)
    planes: int = Field(gt=0)
    phasing: int = Field(0, ge=0)
    altitude_km: DistanceKm = Field(gt=100)

    @model_validator(mode="after")
    def _divides(self) -> WalkerConfig:
        _raise(rules.walker_rule(self.satellites, self.planes, self.phasing))
        return self


class ConstellationConfig(_Section):
    """Where the satellites come from: a TLE/OMM file, or a generated Walker shell."""

    tle: Path | None = None
    walker: WalkerConfig | None = None
    names_regex: str | None = None
    limit: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> ConstellationConfig:
        _raise(rules.constellation_rule(self.tle, self.walker))
        return self


class RegionConfig(_Section):
    """A ground region: devices around a centre that satellites serve when overhead."""

    name: str = Field(min_length=1)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, lt=360)
    radius_km: DistanceKm = Field(300.0, gt=0)
    elevation_mask_deg: float = Field(25.0, ge=0, lt=90)
    devices: int | None = Field(None, gt=0)


class GroundStationConfig(_Section):
    """A ground station (gateway to the cloud) for the baselines that use one."""

    name: str = Field(min_length=1)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, lt=360)
    alt_m: float = 0.0
    elevation_mask_deg: float = Field(10.0, ge=0, lt=90)


class LinkBudgetConfig(_Section):
    """A radio link budget: the rate follows the slant range (FSPL + Shannon)."""

    frequency_hz: FrequencyHz = Field(gt=0)
    bandwidth_hz: FrequencyHz = Field(gt=0)
    tx_power_dbw: float
    tx_gain_dbi: float = 0.0
    rx_gain_dbi: float = 0.0
    system_noise_temp_k: float = Field(500.0, gt=0)
    losses_db: float = Field(0.0, ge=0)
    efficiency: float = Field(0.7, gt=0, le=1)


class GroundSatelliteLinkConfig(_Section):
    """Ground-satellite links: fixed rates, or link budgets that follow the slant range."""

    latency_s: DurationS = Field(0.01, ge=0)
    up_rate_bps: RateBps = Field(10e6, gt=0)
    down_rate_bps: RateBps = Field(50e6, gt=0)
    up_budget: LinkBudgetConfig | None = None
    down_budget: LinkBudgetConfig | None = None
    on_window_end: Literal["cut", "continue"] = "continue"


class IslConfig(_Section):
    """Inter-satellite links (used by the Ring-Allreduce and Parallel FL baselines)."""

    rate_bps: RateBps = Field(1e9, gt=0)
    latency_s: DurationS = Field(0.02, ge=0)
    max_range_km: DistanceKm = Field(5000.0, gt=0)


class SpaceConfig(_Section):
    """The space-ground world."""

    constellation: ConstellationConfig
    regions: list[RegionConfig] = Field(min_length=1)
    ground_stations: list[GroundStationConfig] = []
    horizon_s: DurationS = Field(86400.0, gt=0, le=MAX_HORIZON_S)
    coarse_step_s: DurationS = Field(60.0, gt=0, le=MAX_COARSE_STEP_S)
    cache_dir: Path | Literal["user"] | None = "user"
    """Contact-plan cache: 'user' ($XDG_CACHE_HOME/simfl/contacts, else ~/.cache/simfl/
    contacts), a folder (relative to the scenario file), or null for none."""
    satellite_flops_per_s: FlopsPerS = Field(1e11, gt=0)
    region_link: GroundSatelliteLinkConfig = GroundSatelliteLinkConfig()
    station_link: GroundSatelliteLinkConfig = GroundSatelliteLinkConfig(
        up_rate_bps=100e6, down_rate_bps=200e6)
    isl: IslConfig = IslConfig()

    @model_validator(mode="after")
    def _unique_names(self) -> SpaceConfig:
        names: list[object] = [r.name for r in self.regions]
        names += [g.name for g in self.ground_stations]
        _raise(rules.unique_names_rule(names))
        return self
