"""The space-ground part of a world: satellites, regions, stations, contacts and links.

Built from a scenario's ``space`` section: load or generate the constellation, compute the
contact plan of every satellite over every region centre and ground station (cached on
disk), and wire ground-satellite links that only carry bytes during contact windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from simfl.engine.contact_schedule import ContactSchedule
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation
from simfl.engine.space_link import SpaceLink
from simfl.errors import ScenarioError
from simfl.network.link_budget import LinkBudget
from simfl.orbits.cache import resolve_cache_dir
from simfl.orbits.catalog import load_elements, select
from simfl.orbits.contacts import compute_contacts, slant_range_km
from simfl.orbits.elements import ElementSet
from simfl.orbits.isl import isl_range_km
from simfl.orbits.planes import planes_of
from simfl.orbits.sites import GroundSite
from simfl.orbits.walker import walker_delta
from simfl.scenario.datasets import region_sizes
from simfl.scenario.space_schema import (
    GroundSatelliteLinkConfig,
    LinkBudgetConfig,
    SpaceConfig,
)

EARTH_RADIUS_KM = 6378.135


@dataclass
class SpaceWorld:
    """Satellites, regions and stations with their contact schedule and links.

    Attributes
    ----------
    elements
        Element set of every satellite, by name (the satellite's node name).
    region_names, station_names
        Site names of the regions and ground stations.
    region_clients
        Client indices of the devices in each region.
    plan
        The contact plan (see :func:`simfl.orbits.contacts.compute_contacts`).
    schedule
        The plan as fast lookups.
    plane_of
        Orbital plane index of each satellite (clustered by inclination and RAAN).
    region_up, region_down
        Device-satellite links (contact-limited).
    station_up, station_down
        Ground station-satellite links (contact-limited).
    """

    elements: dict[str, ElementSet]
    region_names: list[str]
    station_names: list[str]
    region_clients: dict[str, list[int]]
    plan: pd.DataFrame
    schedule: ContactSchedule
    plane_of: dict[str, int]
    region_up: SpaceLink
    region_down: SpaceLink
    station_up: SpaceLink
    station_down: SpaceLink
    epoch_utc: datetime
    sites: dict[str, GroundSite] = field(default_factory=dict)

    def isl_range_km(self, a: str, b: str, t_s: float) -> float:
        """Return the distance between satellites ``a`` and ``b`` at ``t_s``, in km."""
        return float(isl_range_km(self.elements[a], self.elements[b], np.array([t_s]),
                                  self.epoch_utc)[0])

    def isl_visible(self, a: str, b: str, t_s: float, max_range_km: float,
                    atmosphere_margin_km: float = 80.0) -> bool:
        """Return whether ``a`` and ``b`` can link at ``t_s``: in range, line of sight clear."""
        from simfl.orbits.propagate import propagate_ecef

        states = propagate_ecef([self.elements[a], self.elements[b]], self.epoch_utc,
                                np.array([t_s]))
        ra, rb = states.r_km[0, 0], states.r_km[1, 0]
        d = rb - ra
        dist = float(np.linalg.norm(d))
        if not np.isfinite(dist) or dist > max_range_km:
            return False
        u = float(np.clip(-np.dot(ra, d) / (dist * dist), 0.0, 1.0))
        closest = float(np.linalg.norm(ra + u * d))
        return closest >= EARTH_RADIUS_KM + atmosphere_margin_km


def _budget(cfg: LinkBudgetConfig | None) -> LinkBudget | None:
    if cfg is None:
        return None
    return LinkBudget(frequency_hz=cfg.frequency_hz, bandwidth_hz=cfg.bandwidth_hz,
                      tx_power_dbw=cfg.tx_power_dbw, tx_gain_dbi=cfg.tx_gain_dbi,
                      rx_gain_dbi=cfg.rx_gain_dbi, system_noise_temp_k=cfg.system_noise_temp_k,
                      losses_db=cfg.losses_db, efficiency=cfg.efficiency)


def load_constellation(
    cfg: SpaceConfig, sim: Simulation, base_dir: Path | None
) -> list[ElementSet]:
    """Return the scenario's satellites (file relative to ``base_dir`` or cwd, or Walker)."""
    con = cfg.constellation
    if con.walker is not None:
        w = con.walker
        elements = walker_delta(w.inclination_deg, w.satellites, w.planes, w.phasing,
                                w.altitude_km, sim.epoch_utc, name_prefix="SAT")
    else:
        assert con.tle is not None
        path = con.tle
        if not path.is_absolute() and not path.exists() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ScenarioError(
                f"space.constellation.tle: {con.tle} does not exist (in a scenario file, a "
                f"relative path is read from the file's folder; in an -o override, from the "
                f"current directory {Path.cwd()}); the shipped shells are in the repository's "
                f"orbits/ folder, e.g. orbits/demo_shell_12.tle")
        elements = load_elements(path)
    if con.names_regex is not None or con.limit is not None:
        elements = select(elements, names_regex=con.names_regex, limit=con.limit)
    return elements


def _space_link(sim: Simulation, schedule: ContactSchedule, name: str,
                cfg: GroundSatelliteLinkConfig, direction: str,
                range_fn: object) -> SpaceLink:
    budget = _budget(cfg.up_budget if direction == "up" else cfg.down_budget)
    rate = cfg.up_rate_bps if direction == "up" else cfg.down_rate_bps
    return SpaceLink(sim, schedule, f"{name}_{direction}",
                     rate_bps=None if budget is not None else rate, budget=budget,
                     range_km=range_fn if budget is not None else None,  # type: ignore[arg-type]
                     latency_s=cfg.latency_s, on_window_end=cfg.on_window_end)


def build_space_world(
    cfg: SpaceConfig,
    sim: Simulation,
    num_clients: int,
    nodes: dict[str, Node],
    base_dir: Path | None = None,
    progress: bool = False,
) -> SpaceWorld:
    """Return the space world of ``cfg`` and add satellite and station nodes to ``nodes``.

    Clients are assigned to regions in contiguous, nearly equal blocks.
    """
    elements = load_constellation(cfg, sim, base_dir)
    names = [e.name for e in elements]
    if len(set(names)) != len(names):
        raise ScenarioError("space.constellation: satellite names repeat in the catalog; "
                            "use names_regex or limit to pick distinct satellites")
    sites = [GroundSite(r.name, r.lat_deg, r.lon_deg, 0.0, r.elevation_mask_deg)
             for r in cfg.regions]
    sites += [GroundSite(g.name, g.lat_deg, g.lon_deg, g.alt_m, g.elevation_mask_deg)
              for g in cfg.ground_stations]
    if num_clients < len(cfg.regions):
        raise ScenarioError(f"partition.num_clients ({num_clients}) must be at least the number "
                            f"of regions ({len(cfg.regions)}): every region needs a device")
    plan = compute_contacts(elements, sites, sim.epoch_utc, cfg.horizon_s,
                            coarse_step_s=cfg.coarse_step_s,
                            workers=1 if len(elements) < 300 else None,
                            cache_dir=resolve_cache_dir(cfg.cache_dir), progress=progress)
    schedule = ContactSchedule(plan)
    by_name = {e.name: e for e in elements}
    site_by_name = {s.name: s for s in sites}
    epoch = sim.epoch_utc

    def range_fn(sat: str, site: str, t_s: np.ndarray) -> np.ndarray:
        return slant_range_km(by_name[sat], site_by_name[site], t_s, epoch)

    sizes = region_sizes(num_clients, len(cfg.regions), [r.devices for r in cfg.regions])
    starts = np.cumsum([0, *sizes])
    region_clients = {r.name: list(range(int(starts[k]), int(starts[k + 1])))
                      for k, r in enumerate(cfg.regions)}
    clashes = sorted({n for n in [*names, *(g.name for g in cfg.ground_stations)] if n in nodes}
                     | ({g.name for g in cfg.ground_stations} & set(names)))
    if clashes:
        raise ScenarioError(f"space: {', '.join(clashes)} would name two nodes (a satellite, a "
                            "ground station, a device, an edge server or the cloud); rename the "
                            "ground station(s)")
    for e in elements:
        nodes[e.name] = Node.create(sim.env, e.name, "satellite", cfg.satellite_flops_per_s)
    for g in cfg.ground_stations:
        nodes[g.name] = Node.create(sim.env, g.name, "ground_station", 1e12)
    world = SpaceWorld(
        elements=by_name,
        region_names=[r.name for r in cfg.regions],
        station_names=[g.name for g in cfg.ground_stations],
        region_clients=region_clients,
        plan=plan,
        schedule=schedule,
        plane_of=planes_of(elements),
        region_up=_space_link(sim, schedule, "region", cfg.region_link, "up", range_fn),
        region_down=_space_link(sim, schedule, "region", cfg.region_link, "down", range_fn),
        station_up=_space_link(sim, schedule, "station", cfg.station_link, "up", range_fn),
        station_down=_space_link(sim, schedule, "station", cfg.station_link, "down", range_fn),
        epoch_utc=epoch,
        sites=site_by_name,
    )
    return world
