"""Generated geographic heart-rate data for SGFusion: zones in countries, a hidden hierarchy.

A stand-in for the FitRec/Endomondo data of SGFusion (Nguyen et al., "SGFusion: Stochastic
Geographic Gradient Fusion in Federated Learning", arXiv 2510.23455), which cannot be
downloaded here. Countries are boxes on the real map cut into grid-cell zones. A HIDDEN
binary tree over the zones (a random tree over each country's zones, joined by a random tree
over the countries) decides how zones behave: every edge of the tree adds a Gaussian
perturbation (standard deviation ``hierarchy_spread * 0.7**depth``) to the zone parameters
of a heart-rate response model, so zones that part deep in the tree behave alike. The true
tree is returned as nested lists of zone names, to check a fitted HRG against.

Each user (1 + Poisson(users_per_zone - 1) per zone) has a resting and maximal heart rate,
a fitness and a pace; each workout (2 + Poisson(workouts_per_user - 2)) is ``seq_len``
steps about ``step_s`` apart over a hilly course. Per step, the heart rate relaxes towards
``rest + (max - rest) * demand + drift * minutes`` with time constant ``tau_s``, where
``demand = base + speed_gain * speed_kmh + grade_gain * grade_pct`` (clipped to [0.05, 1]),
and is observed with Gaussian noise. Inputs are FitRec's: distance since the previous step
(km), altitude (m) and time since the start (s), z-scored with the statistics of all train
workouts. Targets are the heart rate per step in bpm, ``(n, seq_len)`` (FitRec and SGFusion
predict every step), or only the last step, ``(n,)``, with ``target="last"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np

from simfl.errors import SimflError
from simfl.geo.grid import grid_zones
from simfl.geo.zones import Zone
from simfl.learning.sequences import (
    WORKOUT_FEATURES,
    FeatureScaling,
    SequenceClient,
    split_indices,
)

Tree: TypeAlias = "str | list[Tree]"

DEPTH_DECAY = 0.7  # each level of the hidden tree perturbs 0.7x as much as the one above
#: Zone parameters: (name, value at z = 0, change per unit z, "lin" or "log").
PARAMETERS = (
    ("base_demand", 0.12, 0.04, "lin"),  # fraction of heart-rate reserve at rest pace
    ("speed_gain", 0.045, 0.008, "lin"),  # reserve fraction per km/h
    ("grade_gain", 0.025, 0.008, "lin"),  # reserve fraction per % of grade
    ("tau_s", 35.0, 0.3, "log"),  # heart-rate time constant
    ("drift_bpm_per_min", 0.4, 0.25, "lin"),  # cardiac drift
    ("pace_kmh", 10.0, 1.2, "lin"),  # the zone's typical speed
    ("hilliness_m", 25.0, 0.5, "log"),  # amplitude of the courses' hills
    ("rest_bpm", 62.0, 3.0, "lin"),  # mean resting heart rate of the zone's users
)


@dataclass(frozen=True)
class Country:
    """A box on the map cut into ``rows x cols`` grid-cell zones named ``f"{name}-r-c"``."""

    name: str
    lat_min_deg: float
    lat_max_deg: float
    lon_min_deg: float
    lon_max_deg: float
    rows: int = 2
    cols: int = 2

    def zones(self) -> list[Zone]:
        """Return the country's zones, row by row from the south-west."""
        if not (isinstance(self.rows, int) and isinstance(self.cols, int)
                and self.rows >= 1 and self.cols >= 1):
            raise SimflError(f"country {self.name!r}: rows={self.rows!r}, cols={self.cols!r} "
                             "must be positive integers")
        step = ((self.lat_max_deg - self.lat_min_deg) / self.rows,
                (self.lon_max_deg - self.lon_min_deg) / self.cols)
        if min(step) <= 0:
            raise SimflError(f"country {self.name!r}: the box is empty; need lat_min < lat_max "
                             "and lon_min < lon_max")
        return grid_zones(self.lat_min_deg, self.lat_max_deg, self.lon_min_deg,
                          self.lon_max_deg, cell_deg=step, prefix=self.name)


#: Boxes that lie (mostly) on land in a few of the countries SGFusion's code mentions.
COUNTRIES: dict[str, Country] = {
    c.name: c for c in (
        Country("germany", 48.0, 53.5, 7.0, 13.5),
        Country("spain", 37.5, 43.0, -7.5, -1.0),
        Country("poland", 50.0, 54.0, 15.0, 23.5),
        Country("norway", 59.0, 62.5, 7.0, 12.0),
        Country("thailand", 14.0, 18.0, 99.0, 103.0),
        Country("usa", 33.0, 45.0, -112.0, -86.0, 3, 4),
    )
}


@dataclass(frozen=True)
class GeoWorkoutsConfig:
    """Sizes and knobs of :func:`generate_geo_workouts`; the defaults train in seconds.

    Attributes
    ----------
    countries
        The countries (default: germany, spain, poland of :data:`COUNTRIES`, 2x2 zones each).
    users_per_zone, workouts_per_user
        Means of the drawn counts (at least 1 user per zone and 2 workouts per user).
    test_fraction
        Share of each user's workouts held out for testing (at least one each way).
    seq_len, step_s
        Steps per workout and mean seconds between steps (each gap uniform in +-20 %).
    noise_bpm
        Standard deviation of the observed heart rate around the model.
    hierarchy_spread
        Size of the top-level perturbation of the zone parameters (in units of each
        parameter's change per unit z, see :data:`PARAMETERS`); 0 makes all zones alike.
    user_spread
        Size of the per-user variation of fitness, pace and heart-rate range.
    target
        ``"sequence"``: heart rate at every step, ``(n, seq_len)``; ``"last"``: ``(n,)``.
    """

    countries: tuple[Country, ...] = field(
        default_factory=lambda: tuple(COUNTRIES[n] for n in ("germany", "spain", "poland")))
    users_per_zone: float = 4.0
    workouts_per_user: float = 10.0
    test_fraction: float = 0.25
    seq_len: int = 50
    step_s: float = 10.0
    noise_bpm: float = 3.0
    hierarchy_spread: float = 2.0
    user_spread: float = 0.3
    target: Literal["sequence", "last"] = "sequence"

    def __post_init__(self) -> None:
        problems = []
        if not self.countries or len({c.name for c in self.countries}) != len(self.countries):
            problems.append("countries must be a non-empty tuple with unique names")
        if not self.users_per_zone >= 1 or not self.workouts_per_user >= 2:
            problems.append(f"users_per_zone={self.users_per_zone} must be >= 1 and "
                            f"workouts_per_user={self.workouts_per_user} >= 2")
        if not 0 < self.test_fraction < 1:
            problems.append(f"test_fraction={self.test_fraction} must be in (0, 1)")
        if not (isinstance(self.seq_len, int) and self.seq_len >= 2) or not self.step_s > 0:
            problems.append(f"seq_len={self.seq_len!r} must be an integer >= 2 and "
                            f"step_s={self.step_s} > 0")
        if min(self.noise_bpm, self.hierarchy_spread, self.user_spread) < 0:
            problems.append("noise_bpm, hierarchy_spread and user_spread must be >= 0")
        if self.target not in ("sequence", "last"):
            problems.append(f"target={self.target!r} is unknown; use 'sequence' or 'last'")
        if problems:
            raise SimflError(problems)


@dataclass(frozen=True, eq=False)
class GeoWorkouts:
    """Generated zones, users and the true hierarchy.

    Attributes
    ----------
    zones
        Every zone (grid cells; ``lat_deg``/``lon_deg`` are the cell centres), by country.
    country_of
        ``{zone name: country name}``.
    clients
        One :class:`SequenceClient` per user, named ``f"{zone}/u{k}"``, in zone order.
    hierarchy
        The hidden tree over all zones: a zone name, or a pair ``[left, right]``.
    country_hierarchy
        ``{country: its subtree of hierarchy}`` (SGFusion fits one HRG per country).
    zone_params
        ``{zone: {parameter: value}}``, the true parameters (:data:`PARAMETERS`).
    scaling
        How the inputs were scaled (fitted on all train workouts).
    """

    zones: tuple[Zone, ...]
    country_of: dict[str, str]
    clients: tuple[SequenceClient, ...]
    hierarchy: Tree
    country_hierarchy: dict[str, Tree]
    zone_params: dict[str, dict[str, float]]
    scaling: FeatureScaling
    feature_names: tuple[str, ...] = WORKOUT_FEATURES


def generate_geo_workouts(rng: np.random.Generator,
                          config: GeoWorkoutsConfig | None = None) -> GeoWorkouts:
    """Return generated zones, per-user train/test workouts and the hidden hierarchy.

    The same generator state and config give the same data, bit for bit.
    """
    cfg = config or GeoWorkoutsConfig()
    zones: list[Zone] = []
    country_of: dict[str, str] = {}
    country_trees: dict[str, Tree] = {}
    for country in cfg.countries:
        mine = country.zones()
        zones += mine
        country_of.update({z.name: country.name for z in mine})
        country_trees[country.name] = random_tree([z.name for z in mine], rng)
    top = random_tree([c.name for c in cfg.countries], rng)
    hierarchy = _graft(top, country_trees)
    k = len(PARAMETERS)
    country_z = _perturb(top, k, cfg.hierarchy_spread, rng)
    z_of: dict[str, np.ndarray] = {}
    for name, tree in country_trees.items():
        z_of.update(_perturb(tree, k, cfg.hierarchy_spread, rng, country_z[name]))
    params = {name: _physical(z_of[name]) for name in (z.name for z in zones)}
    raw: list[tuple[str, np.ndarray, np.ndarray]] = []
    for zone in zones:
        n_users = 1 + int(rng.poisson(cfg.users_per_zone - 1))
        altitude_m = float(rng.uniform(50.0, 800.0))
        for _ in range(n_users):
            n_workouts = 2 + int(rng.poisson(cfg.workouts_per_user - 2))
            x, y = _user_workouts(params[zone.name], altitude_m, n_workouts, cfg, rng)
            raw.append((zone.name, x, y))
    splits = [split_indices(len(x), cfg.test_fraction, rng) for _, x, _ in raw]
    scaling = FeatureScaling.fit(np.concatenate([x[tr] for (_, x, _), (tr, _) in
                                                 zip(raw, splits, strict=True)]))
    clients = []
    for k, ((zone_name, x, y), (train, test)) in enumerate(zip(raw, splits, strict=True)):
        target = y if cfg.target == "sequence" else y[:, -1]
        clients.append(SequenceClient(
            f"{zone_name}/u{k}", zone_name, f"u{k}", scaling.apply(x[train]),
            target[train].astype(np.float32), scaling.apply(x[test]),
            target[test].astype(np.float32)))
    return GeoWorkouts(tuple(zones), country_of, tuple(clients), hierarchy, country_trees,
                       params, scaling)


def random_tree(leaves: list[str], rng: np.random.Generator) -> Tree:
    """Return a random binary tree over ``leaves``: shuffle, cut at a uniform point, recurse."""
    if not leaves:
        raise SimflError("a tree needs at least one leaf")
    order = [leaves[i] for i in rng.permutation(len(leaves))]
    return _split(order, rng)


def tree_leaves(tree: Tree) -> list[str]:
    """Return the leaf names of a nested-list tree, left to right."""
    return [tree] if isinstance(tree, str) else [n for child in tree for n in tree_leaves(child)]


def _split(order: list[str], rng: np.random.Generator) -> Tree:
    if len(order) == 1:
        return order[0]
    cut = int(rng.integers(1, len(order)))
    return [_split(order[:cut], rng), _split(order[cut:], rng)]


def _graft(tree: Tree, subtrees: dict[str, Tree]) -> Tree:
    if isinstance(tree, str):
        return subtrees[tree]
    return [_graft(child, subtrees) for child in tree]


def _perturb(tree: Tree, k: int, spread: float, rng: np.random.Generator,
             z: np.ndarray | None = None, depth: int = 0) -> dict[str, np.ndarray]:
    """Return ``{leaf: z}``: the sum of the perturbations on the path from the root."""
    z = np.zeros(k) if z is None else z
    if isinstance(tree, str):
        return {tree: z}
    out: dict[str, np.ndarray] = {}
    for child in tree:
        step = rng.normal(0.0, spread * DEPTH_DECAY**depth, k)
        out.update(_perturb(child, k, spread, rng, z + step, depth + 1))
    return out


def _physical(z: np.ndarray) -> dict[str, float]:
    return {name: (base * math.exp(scale * float(v)) if kind == "log" else base + scale * float(v))
            for (name, base, scale, kind), v in zip(PARAMETERS, z, strict=True)}


def _user_workouts(p: dict[str, float], altitude_m: float, n: int, cfg: GeoWorkoutsConfig,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return raw inputs ``(n, seq, 3)`` and heart rates ``(n, seq)`` of one user."""
    s = cfg.user_spread
    rest = p["rest_bpm"] + rng.normal(0.0, 10.0 * s)
    top = 188.0 + rng.normal(0.0, 20.0 * s)
    fitness = math.exp(rng.normal(0.0, 0.5 * s))  # > 1: less effort at a given speed
    pace = max(3.0, p["pace_kmh"] * math.exp(rng.normal(0.0, 0.3 * s)))
    t = cfg.seq_len
    dt_s = cfg.step_s * rng.uniform(0.8, 1.2, (n, t))
    dt_s[:, 0] = 0.0
    wobble = np.zeros((n, t))
    shocks = rng.normal(0.0, 0.15 * math.sqrt(1 - 0.9**2), (n, t))
    for i in range(1, t):  # AR(1) speed variation around the workout's pace
        wobble[:, i] = 0.9 * wobble[:, i - 1] + shocks[:, i]
    speed_kmh = np.maximum(1.0, pace * np.exp(rng.normal(0.0, 0.1, (n, 1))) * (1 + wobble))
    step_km = speed_kmh * dt_s / 3600.0
    course_km = np.cumsum(step_km, axis=1)
    waves = rng.uniform(1.0, 3.0, (n, 1)), rng.uniform(0.3, 1.0, (n, 1))
    phases = rng.uniform(0.0, 2 * np.pi, (n, 2))
    hills = (np.sin(2 * np.pi * course_km / waves[0] + phases[:, :1])
             + 0.5 * np.sin(2 * np.pi * course_km / waves[1] + phases[:, 1:]))
    alt_m = altitude_m + p["hilliness_m"] * hills
    grade_pct = np.zeros((n, t))
    moved = step_km[:, 1:] > 0
    grade_pct[:, 1:] = np.where(moved, 100 * np.diff(alt_m, axis=1)
                                / np.maximum(step_km[:, 1:], 1e-9) / 1000, 0.0)
    grade_pct = np.clip(grade_pct, -15.0, 15.0)
    demand = np.clip(p["base_demand"] + (p["speed_gain"] * speed_kmh
                                         + p["grade_gain"] * grade_pct) / fitness, 0.05, 1.0)
    elapsed_s = np.cumsum(dt_s, axis=1)
    goal = rest + (top - rest) * demand + p["drift_bpm_per_min"] * elapsed_s / 60.0
    hr = np.empty((n, t))
    hr[:, 0] = rest + 0.3 * (goal[:, 0] - rest)
    for i in range(1, t):
        hr[:, i] = hr[:, i - 1] + (goal[:, i] - hr[:, i - 1]) * (
            1 - np.exp(-dt_s[:, i] / p["tau_s"]))
    observed = np.clip(hr + rng.normal(0.0, cfg.noise_bpm, (n, t)), 35.0, 230.0)
    return np.stack([step_km, alt_m, elapsed_s], axis=2), observed
