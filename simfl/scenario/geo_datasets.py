"""Building the federated data of a geographic scenario: users in zones, workouts, targets.

``geo_workouts`` generates the users (:mod:`simfl.learning.geo_workouts`); ``fitrec`` reads
them from FitRec's file and zones from a file or a grid (:mod:`simfl.learning.fitrec`). Each
user is a client with its own test workouts; the :class:`~simfl.geo.layout.ZoneLayout`
says which zone each client lives in, for ``groups.assignment: zones``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from simfl.errors import ScenarioError
from simfl.geo.grid import grid_zones
from simfl.geo.layout import layout_of
from simfl.geo.zone_files import read_geojson_zones, read_wkt_zones
from simfl.geo.zones import Zone
from simfl.learning.client_data import ClientData
from simfl.learning.fitrec import fitrec_clients, load_fitrec
from simfl.learning.geo_workouts import (
    COUNTRIES,
    Country,
    GeoWorkoutsConfig,
    generate_geo_workouts,
)
from simfl.learning.sequences import SequenceClient
from simfl.learning.workout_context import context_features, with_previous_workout
from simfl.scenario.datasets import FederatedData, with_client_tests
from simfl.scenario.geo_schema import GeoWorkoutsSection, ZonesSourceConfig
from simfl.scenario.schema import DataConfig


def scenario_zones(data: DataConfig) -> list[Zone]:
    """Return every zone the scenario's data section defines (with or without users).

    Generated workouts: the grid cells of the countries; FitRec: the zones file or grid.
    Cheap (no workouts are read), so figures can redraw the zones of a finished run.
    """
    if data.dataset == "geo_workouts":
        return [z for c in geo_workouts_config(data.geo_workouts).countries for z in c.zones()]
    if data.dataset == "fitrec":
        if data.fitrec.zones is None:
            raise ScenarioError("data.fitrec.zones: dataset 'fitrec' needs zones (a file or a "
                                "grid)")
        return read_zones(data.fitrec.zones)
    raise ScenarioError(f"dataset {data.dataset!r} has no zones; use geo_workouts or fitrec")


def read_zones(source: ZonesSourceConfig) -> list[Zone]:
    """Return the zones of a file (GeoJSON, or CSV with WKT polygons) or of a grid."""
    if source.grid is not None:
        g = source.grid
        return grid_zones(g.lat_min_deg, g.lat_max_deg, g.lon_min_deg, g.lon_max_deg,
                          cell_deg=g.cell_deg, cell_km=g.cell_km, prefix=g.prefix)
    assert source.file is not None
    if source.file.suffix.lower() == ".csv":
        return read_wkt_zones(source.file, name_column=source.name_property,
                              wkt_column=source.wkt_column)
    return read_geojson_zones(source.file, name_property=source.name_property)


def geo_workouts_config(section: GeoWorkoutsSection) -> GeoWorkoutsConfig:
    """Return the generator settings of a ``data.geo_workouts`` section."""
    countries = []
    for spec in section.countries:
        if spec.lat_min_deg is None:
            base = COUNTRIES[spec.name]
        else:
            assert (spec.lat_max_deg is not None and spec.lon_min_deg is not None
                    and spec.lon_max_deg is not None)
            base = Country(spec.name, spec.lat_min_deg, spec.lat_max_deg, spec.lon_min_deg,
                           spec.lon_max_deg)
        countries.append(replace(base, rows=spec.rows or base.rows, cols=spec.cols or base.cols))
    return GeoWorkoutsConfig(
        countries=tuple(countries), users_per_zone=section.users_per_zone,
        workouts_per_user=section.workouts_per_user, test_fraction=section.test_fraction,
        seq_len=section.seq_len, step_s=section.step_s, noise_bpm=section.noise_bpm,
        hierarchy_spread=section.hierarchy_spread, user_spread=section.user_spread,
        target=section.target)


def geo_federated_data(data: DataConfig, rng: np.random.Generator,
                       test_rng: np.random.Generator) -> FederatedData:
    """Return one client per user of a ``geo_workouts`` or ``fitrec`` dataset, with layout.

    ``rng`` generates the workouts (or splits FitRec users' workouts); the global test set
    is the union of the users' own test workouts. ``target_scale`` is the mean and std of
    all training targets (the per-step models' output scale).
    """
    country_of: dict[str, str] = {}
    hierarchy = None
    if data.dataset == "geo_workouts":
        gen = generate_geo_workouts(rng, geo_workouts_config(data.geo_workouts))
        users, zones = list(gen.clients), list(gen.zones)
        country_of, hierarchy = gen.country_of, gen.hierarchy
        context = data.geo_workouts.context
    else:
        cfg = data.fitrec
        assert data.path is not None
        zones = scenario_zones(data)
        workouts = load_fitrec(data.path, seq_len=cfg.seq_len, sports=cfg.sports,
                               max_workouts=cfg.max_workouts, time_input=cfg.time_input,
                               z_multiple=cfg.z_multiple, skip_bad_lines=cfg.skip_bad_lines)
        users = fitrec_clients(workouts, zones, rng, test_fraction=cfg.test_fraction,
                               min_workouts=cfg.min_workouts)
        context = cfg.context
    targets = np.concatenate([u.y_train.ravel() for u in users]).astype(np.float64)
    scale = (float(targets.mean()), float(targets.std()) or 1.0)
    step_features = int(users[0].x_train.shape[-1])
    if context:
        users = with_previous_workout(users, *scale)
    clients, own = _clients(users)
    test_x = torch.cat([x for x, _ in own])
    test_y = torch.cat([y for _, y in own])
    clients = with_client_tests(clients, test_x, test_y, data, test_rng, own)
    return FederatedData(
        clients, test_x, test_y, "regression", 0, tuple(clients[0].x.shape[1:]),
        layout=layout_of(zones, [u.zone for u in users], country_of, hierarchy),
        target_scale=scale,
        context_features=context_features(step_features) if context else 0)


def _clients(users: list[SequenceClient]) -> tuple[list[ClientData],
                                                   list[tuple[torch.Tensor, torch.Tensor]]]:
    clients, own = [], []
    for i, u in enumerate(users):
        x, y = torch.from_numpy(np.ascontiguousarray(u.x_train)), torch.from_numpy(u.y_train)
        clients.append(ClientData(f"client-{i}", x, y, u.y_train))
        own.append((torch.from_numpy(np.ascontiguousarray(u.x_test)),
                    torch.from_numpy(np.ascontiguousarray(u.y_test))))
    return clients, own
