"""Tests of simfl.learning.geo_workouts: generated zones, workouts and the hidden hierarchy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.geo_workouts import (
    COUNTRIES,
    Country,
    GeoWorkouts,
    GeoWorkoutsConfig,
    Tree,
    generate_geo_workouts,
    random_tree,
    tree_leaves,
)

HR_BINS = 10  # as SGFusion's zone histograms
Z_TOL = 1e-4


def _data(seed: int = 0, **kwargs: object) -> GeoWorkouts:
    return generate_geo_workouts(np.random.default_rng(seed), GeoWorkoutsConfig(**kwargs))  # type: ignore[arg-type]


def _lca_below_root(tree: Tree, a: str, b: str) -> bool:
    return isinstance(tree, list) and any(
        a in tree_leaves(child) and b in tree_leaves(child) for child in tree)


def _zone_histograms(data: GeoWorkouts) -> dict[str, np.ndarray]:
    ys = np.concatenate([c.y_train.ravel() for c in data.clients])
    edges = np.histogram_bin_edges(ys, HR_BINS)
    out = {}
    for zone in data.zones:
        y = np.concatenate([c.y_train.ravel() for c in data.clients if c.zone == zone.name])
        counts, _ = np.histogram(y, edges)
        out[zone.name] = counts / counts.sum()
    return out


def test_same_seed_same_data_and_other_seed_other_data() -> None:
    a, b, c = _data(3), _data(3), _data(4)
    assert a.hierarchy == b.hierarchy
    assert [x.name for x in a.clients] == [x.name for x in b.clients]
    assert all(np.array_equal(p.x_train, q.x_train) and np.array_equal(p.y_test, q.y_test)
               for p, q in zip(a.clients, b.clients, strict=True))
    assert not np.array_equal(a.clients[0].y_train[:1], c.clients[0].y_train[:1])


def test_shapes_and_types_of_per_step_targets() -> None:
    data = _data(seq_len=30)
    for client in data.clients:
        assert client.x_train.dtype == np.float32 and client.y_train.dtype == np.float32
        assert client.x_train.shape[1:] == (30, 3) and client.y_train.shape[1:] == (30,)
        assert len(client.x_train) == len(client.y_train) >= 1
        assert len(client.x_test) == len(client.y_test) >= 1
    assert data.feature_names == ("distance_km", "altitude_m", "time_elapsed_s")


def test_last_step_target() -> None:
    per_step, last = _data(1), _data(1, target="last")
    assert last.clients[0].y_train.shape == (len(last.clients[0].x_train),)
    assert np.array_equal(last.clients[0].y_train, per_step.clients[0].y_train[:, -1])


def test_default_zones_are_grids_of_three_countries() -> None:
    data = _data()
    assert len(data.zones) == 12
    assert data.zones[0].name == "germany-0-0"
    germany = COUNTRIES["germany"]
    inside = [germany.lat_min_deg < z.lat_deg < germany.lat_max_deg
              and germany.lon_min_deg < z.lon_deg < germany.lon_max_deg
              for z in data.zones if data.country_of[z.name] == "germany"]
    assert len(inside) == 4 and all(inside)
    assert {c.zone for c in data.clients} == {z.name for z in data.zones}


def test_hierarchy_holds_every_zone_once_with_countries_as_subtrees() -> None:
    data = _data(2)
    assert sorted(tree_leaves(data.hierarchy)) == sorted(z.name for z in data.zones)
    text = repr(data.hierarchy)
    for country, tree in data.country_hierarchy.items():
        assert sorted(tree_leaves(tree)) == sorted(
            z for z, c in data.country_of.items() if c == country)
        assert repr(tree) in text


@pytest.mark.parametrize("seed", range(5))
def test_zones_under_one_subtree_have_closer_histograms(seed: int) -> None:
    data = _data(seed)
    hist = _zone_histograms(data)
    within, across = [], []
    for tree in data.country_hierarchy.values():
        for a, b in itertools.combinations(tree_leaves(tree), 2):
            distance = float(np.linalg.norm(hist[a] - hist[b]))
            (within if _lca_below_root(tree, a, b) else across).append(distance)
    assert np.mean(within) < np.mean(across)


def test_without_hierarchy_spread_all_zones_share_parameters() -> None:
    params = _data(hierarchy_spread=0.0).zone_params
    assert len({tuple(p.values()) for p in params.values()}) == 1


def test_heart_rates_are_plausible() -> None:
    ys = np.concatenate([c.y_train.ravel() for c in _data().clients])
    assert ys.min() >= 35.0 and ys.max() <= 230.0
    assert 90.0 < ys.mean() < 170.0


def test_train_inputs_are_z_scored() -> None:
    x = np.concatenate([c.x_train for c in _data().clients]).reshape(-1, 3)
    assert np.allclose(x.mean(axis=0), 0.0, atol=Z_TOL)
    assert np.allclose(x.std(axis=0), 1.0, atol=Z_TOL)


def test_custom_countries() -> None:
    island = Country("island", 10.0, 11.0, 20.0, 23.0, rows=1, cols=3)
    data = _data(countries=(island,), users_per_zone=1.0)
    assert [z.name for z in data.zones] == ["island-0-0", "island-0-1", "island-0-2"]
    assert len(data.clients) == 3


def test_bad_config_lists_every_problem() -> None:
    with pytest.raises(SimflError) as info:
        GeoWorkoutsConfig(users_per_zone=0.5, test_fraction=1.5, seq_len=1,
                          target="mean")  # type: ignore[arg-type]
    assert len(info.value.problems) == 4


def test_random_tree_is_binary_over_the_leaves() -> None:
    tree = random_tree(list("abcdefg"), np.random.default_rng(0))

    def binary(node: Tree) -> bool:
        return isinstance(node, str) or (len(node) == 2 and all(binary(c) for c in node))

    assert binary(tree) and sorted(tree_leaves(tree)) == list("abcdefg")
