"""Tests of the HRG fit: exact dynamic program, annealed MCMC, average linkage, windows."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from simfl.algorithms.geographic.dendrogram import Dendrogram, node_distances, tree_loss
from simfl.algorithms.geographic.hrg_exact import exact_tree
from simfl.algorithms.geographic.hrg_fit import average_linkage_tree, fit_hrg
from simfl.algorithms.geographic.hrg_mcmc import (
    AnnealSchedule,
    mcmc_tree,
    official_schedule,
    random_tree,
)
from simfl.algorithms.geographic.hrg_window import window_descent
from simfl.errors import SimflError

LOSS_TOL = 1e-9  # distance units; float summation error between two routes to one loss


def uniform_matrix(n: int, seed: int) -> np.ndarray:
    """Symmetric, zero-diagonal, i.i.d. U(0, 1) distances: no structure, many local minima."""
    upper = np.triu(np.random.default_rng(seed).random((n, n)), 1)
    return upper + upper.T


def histogram_matrix(n: int, seed: int) -> np.ndarray:
    """L2 distances between random 10-bin histograms, like SGFusion's zone graph."""
    h = np.random.default_rng(seed).dirichlet(np.full(10, 2.0), size=n)
    return np.sqrt(((h[:, None] - h[None]) ** 2).sum(-1))


def clustered_matrix(sizes: list[int], seed: int) -> np.ndarray:
    """Euclidean distances of points in tight, far-apart clusters (zones in order)."""
    rng = np.random.default_rng(seed)
    centers = 10.0 * np.eye(len(sizes), 4)
    x = np.concatenate([c + 0.1 * rng.standard_normal((s, 4)) for c, s in zip(centers, sizes,
                                                                               strict=True)])
    return np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))


def names_of(n: int) -> list[str]:
    return [f"z{i}" for i in range(n)]


def all_trees(leaves: list[int]) -> Iterator[object]:
    """Every rooted binary tree on ``leaves`` ((2n-3)!! of them), by inserting leaf by leaf."""
    if len(leaves) == 1:
        yield leaves[0]
        return

    def insert(tree: object, leaf: int) -> Iterator[object]:
        yield (tree, leaf)
        if isinstance(tree, tuple):
            for sub in insert(tree[0], leaf):
                yield (sub, tree[1])
            for sub in insert(tree[1], leaf):
                yield (tree[0], sub)

    for tree in all_trees(leaves[:-1]):
        yield from insert(tree, leaves[-1])


def brute_force_loss(D: np.ndarray) -> float:
    def walk(tree: object) -> tuple[list[int], float]:
        if not isinstance(tree, tuple):
            return [tree], 0.0  # type: ignore[list-item]
        (a, la), (b, lb) = walk(tree[0]), walk(tree[1])
        return a + b, la + lb + float(D[np.ix_(a, b)].mean())
    return min(walk(t)[1] for t in all_trees(list(range(len(D)))))


def is_subtree(tree: Dendrogram, zones: set[int]) -> bool:
    return any(set(leaves) == zones for leaves in tree.leaf_sets)


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7])
def test_exact_equals_brute_force_enumeration(n: int) -> None:
    D = uniform_matrix(n, seed=n)
    assert tree_loss(exact_tree(D, names_of(n)), D) == pytest.approx(brute_force_loss(D),
                                                                    abs=LOSS_TOL)


def test_brute_force_enumerates_every_tree_once() -> None:
    trees = [repr(t) for t in all_trees(list(range(6)))]
    assert len(trees) == len(set(trees)) == 945  # (2*6 - 3)!! = 9 * 7 * 5 * 3


def test_exact_is_never_worse_than_average_linkage() -> None:
    for seed in range(5):
        D = histogram_matrix(11, seed)
        exact = tree_loss(exact_tree(D, names_of(11)), D)
        assert exact <= tree_loss(average_linkage_tree(D, names_of(11)), D) + LOSS_TOL


def test_exact_rejects_too_many_zones() -> None:
    with pytest.raises(ValueError, match="limited to 18 zones"):
        exact_tree(np.zeros((19, 19)), names_of(19))


def test_average_linkage_heights_are_the_d_r_of_its_tree() -> None:
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    D = histogram_matrix(9, seed=1)
    heights = np.sort(linkage(squareform(D), method="average")[:, 2])
    d = node_distances(average_linkage_tree(D, names_of(9)), D)
    assert np.sort(d) == pytest.approx(heights, abs=LOSS_TOL)


@pytest.mark.parametrize("kind,n,seed", [
    ("histogram", 8, 0), ("histogram", 12, 1), ("uniform", 9, 2), ("uniform", 14, 3),
    ("clustered", 12, 3),
])
def test_mcmc_reaches_the_exact_optimum_on_small_graphs(kind: str, n: int, seed: int) -> None:
    D = {"histogram": lambda: histogram_matrix(n, seed), "uniform": lambda: uniform_matrix(n, seed),
         "clustered": lambda: clustered_matrix([4, 4, 4], seed)}[kind]()
    exact = fit_hrg(D, method="exact").loss
    annealing_only = AnnealSchedule(window_blocks=0)  # no exact window polish
    fit = fit_hrg(D, method="mcmc", seed=seed, schedule=annealing_only)
    assert fit.loss == pytest.approx(exact, abs=LOSS_TOL)


def test_mcmc_trace_reaches_the_optimum_and_records_each_sweep() -> None:
    D = histogram_matrix(10, seed=4)
    fit = fit_hrg(D, method="mcmc", seed=0, schedule=AnnealSchedule(window_blocks=0))
    trace = fit.trace
    assert trace is not None
    assert trace.best_loss[-1] == pytest.approx(fit_hrg(D, method="exact").loss, abs=LOSS_TOL)
    assert np.all(np.diff(trace.best_loss) <= LOSS_TOL)  # the best never gets worse
    assert trace.moves_proposed == trace.sweeps * (10 - 2)
    assert len(trace.run_loss) == 3
    assert np.all((trace.accept_rate >= 0.0) & (trace.accept_rate <= 1.0))
    assert trace.temperature[0] > trace.temperature[-1] > 0.0


@pytest.mark.parametrize("method", ["exact", "mcmc", "average_linkage"])
def test_clustered_zones_end_in_one_subtree(method: str) -> None:
    sizes = [5, 4, 6]
    D = clustered_matrix(sizes, seed=7)
    tree = fit_hrg(D, method=method, seed=1).tree
    start = 0
    for size in sizes:
        assert is_subtree(tree, set(range(start, start + size)))
        start += size


def test_mcmc_is_deterministic_for_a_seed() -> None:
    D = uniform_matrix(20, seed=5)
    schedule = AnnealSchedule(anneal_sweeps=100, restarts=2)
    first = fit_hrg(D, method="mcmc", seed=11, schedule=schedule)
    again = fit_hrg(D, method="mcmc", seed=np.random.default_rng(11), schedule=schedule)
    assert first.tree == again.tree
    assert np.array_equal(first.trace.loss, again.trace.loss)  # type: ignore[union-attr]


def test_mcmc_is_never_worse_than_its_start() -> None:
    D = uniform_matrix(25, seed=8)
    start = average_linkage_tree(D, names_of(25))
    tree, _trace = mcmc_tree(D, start, np.random.default_rng(0),
                             AnnealSchedule(anneal_sweeps=50, restarts=1))
    assert tree_loss(tree, D) <= tree_loss(start, D) + LOSS_TOL


def test_incremental_losses_match_a_full_recomputation() -> None:
    D = uniform_matrix(15, seed=9)
    fit = fit_hrg(D, method="mcmc", seed=2,
                  schedule=AnnealSchedule(anneal_sweeps=60, restarts=1, window_blocks=0))
    assert fit.loss == pytest.approx(tree_loss(fit.tree, D), abs=LOSS_TOL)
    assert fit.trace is not None
    assert fit.trace.run_loss[-1] == pytest.approx(fit.loss, abs=LOSS_TOL)


def test_official_schedule_accepts_most_uphill_moves() -> None:
    D = histogram_matrix(13, seed=3)
    rng = np.random.default_rng(0)
    schedule = official_schedule(13, moves=11 * 400)
    _tree, trace = mcmc_tree(D, random_tree(tuple(names_of(13)), rng), rng, schedule)
    assert trace.sweeps == 400
    assert np.nanmean(trace.uphill_accept_rate) > 0.8
    assert np.all(trace.temperature == 1.0)


def test_window_as_large_as_the_tree_solves_it_exactly() -> None:
    D = uniform_matrix(9, seed=10)
    start = random_tree(tuple(names_of(9)), np.random.default_rng(1))
    assert tree_loss(window_descent(D, start, blocks=9), D) == pytest.approx(
        tree_loss(exact_tree(D, names_of(9)), D), abs=LOSS_TOL)


def test_window_descent_never_increases_the_loss() -> None:
    D = uniform_matrix(40, seed=12)
    start = random_tree(tuple(names_of(40)), np.random.default_rng(2))
    assert tree_loss(window_descent(D, start, blocks=6), D) < tree_loss(start, D)


def test_auto_is_exact_up_to_16_zones_and_mcmc_above() -> None:
    assert fit_hrg(histogram_matrix(16, 0), method="auto").method == "exact"
    fast = AnnealSchedule(anneal_sweeps=20, restarts=1)
    assert fit_hrg(histogram_matrix(17, 0), schedule=fast).method == "mcmc"


def test_fit_returns_canonical_tree_with_matching_d() -> None:
    D = histogram_matrix(8, seed=6)
    fit = fit_hrg(D, names_of(8), method="average_linkage")
    assert fit.tree == fit.tree.canonical()
    assert fit.d == pytest.approx(node_distances(fit.tree, D), abs=LOSS_TOL)
    assert fit.loss == pytest.approx(float(fit.d.sum()), abs=LOSS_TOL)
    assert fit.trace is None
    assert fit.names == tuple(names_of(8))


def test_two_zones_have_one_tree() -> None:
    D = np.array([[0.0, 0.3], [0.3, 0.0]])
    for method in ("exact", "mcmc", "average_linkage"):
        fit = fit_hrg(D, ["x", "y"], method=method)
        assert fit.tree.to_nested() == ["x", "y"]
        assert fit.loss == pytest.approx(0.3, abs=LOSS_TOL)


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(SimflError, match="'annealing' is unknown; choose one of auto, exact"):
        fit_hrg(histogram_matrix(4, 0), method="annealing")


def test_exact_for_too_many_zones_says_to_use_mcmc() -> None:
    with pytest.raises(SimflError, match=r"limited to 18 zones.*use method mcmc"):
        fit_hrg(histogram_matrix(19, 0), method="exact")


def test_invalid_matrix_is_reported() -> None:
    D = histogram_matrix(4, 0)
    D[0, 1] = -1.0
    with pytest.raises(SimflError, match=r"D\[z0, z1\] = -1; distances must be >= 0"):
        fit_hrg(D, names_of(4))


@pytest.mark.parametrize("kwargs,message", [
    ({"t_min_ratio": 0.0}, "t_min_ratio must be in"),
    ({"restarts": 0}, "restarts must be >= 1"),
    ({"window_blocks": 2}, "window_blocks must be 0"),
    ({"anneal_sweeps": 500, "max_sweeps": 100}, "max_sweeps .100. must be >= anneal_sweeps"),
])
def test_schedule_rejects_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnnealSchedule(**kwargs)  # type: ignore[arg-type]
