"""MCMC search for a dendrogram of low loss: Clauset's subtree moves with simulated annealing.

SGFusion (arXiv 2510.23455) fits its HRG with Clauset's fitHRG sampler: pick an internal
edge ``x - y`` of the tree (``y`` a child of ``x``); the two subtrees under ``y`` and the
sibling of ``y`` form three subtrees that can hang in three ways; propose one of the other
two; accept downhill always and uphill with ``exp(-dL)``. At the loss scale of histogram
distances (``dL`` about 0.01-0.1) that accepts 95 % of uphill moves (measured on the
official Norway file), so the official run is close to a random walk and its best tree is
far from the optimum (loss 2.09-2.31 there against the optimum 1.918).

This search keeps the move set and the Metropolis rule but divides ``dL`` by a temperature
cooled geometrically over ``anneal_sweeps`` sweeps, from one at which a median uphill move
of the start tree is accepted half the time down to a floor (simulated annealing); a run
then ends when its best loss has not improved for ``patience_sweeps`` sweeps. Each run's
best tree is polished by a greedy descent over all moves and by exact re-solving of
windows (:mod:`.hrg_window`); the first run starts from the given tree, the others from
random trees. A move changes only two ``d_r``: with the cross sums ``S[a, b]`` (sum of ``D``
between the leaves of nodes ``a`` and ``b``) kept for every node pair, a proposal costs
O(1) and an accepted move O(n). :func:`official_schedule` is the official sampler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram
from simfl.algorithms.geographic.hrg_window import window_descent

_IMPROVES = 1e-12  # a loss change below -_IMPROVES counts as an improvement


@dataclass(frozen=True)
class AnnealSchedule:
    """How :func:`mcmc_tree` cools, stops, restarts and polishes.

    Parameters
    ----------
    t_start
        Temperature of the first sweep, in loss units; ``None`` picks the one at which a
        median uphill move from the start tree is accepted with probability 1/2.
    t_min_ratio
        The temperature falls geometrically to ``t_start * t_min_ratio`` (1.0: constant).
    anneal_sweeps
        Sweeps (``n - 2`` proposed moves each) the fall takes.
    patience_sweeps
        After the fall, a run ends once its best loss has not improved for this many sweeps.
    max_sweeps
        A run ends after this many sweeps in any case.
    restarts
        Number of runs: the first from the start tree, the others from random trees.
    window_blocks
        Blocks per window of the exact polish (:func:`.window_descent`); 0: no polish
        at all (neither the greedy descent nor the windows).
    """

    t_start: float | None = None
    t_min_ratio: float = 0.01
    anneal_sweeps: int = 4000
    patience_sweeps: int = 50
    max_sweeps: int = 10_000
    restarts: int = 3
    window_blocks: int = 10

    def __post_init__(self) -> None:
        problems = []
        if self.t_start is not None and not self.t_start >= 0.0:
            problems.append(f"t_start must be >= 0, got {self.t_start}")
        if not 0.0 < self.t_min_ratio <= 1.0:
            problems.append(f"t_min_ratio must be in (0, 1], got {self.t_min_ratio}")
        for name in ("anneal_sweeps", "patience_sweeps", "max_sweeps", "restarts"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_sweeps < self.anneal_sweeps and self.t_min_ratio < 1.0:
            problems.append(f"max_sweeps ({self.max_sweeps}) must be >= anneal_sweeps "
                            f"({self.anneal_sweeps}), or the runs end before they are cold")
        if self.window_blocks not in range(3, 13) and self.window_blocks != 0:
            problems.append(f"window_blocks must be 0 (no polish) or 3 .. 12, "
                            f"got {self.window_blocks}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def cooling(self) -> float:
        """Return the factor applied to the temperature after each sweep of the fall."""
        return float(self.t_min_ratio ** (1.0 / self.anneal_sweeps))


def official_schedule(n_zones: int, moves: int = 131_072) -> AnnealSchedule:
    """Return the official fitHRG sampler: temperature 1, one run, no polish, ``moves`` moves.

    The official run stops after two blocks of 65,536 moves (its equilibrium test passes at
    the first check on SGFusion's inputs) and reports the best tree it met.
    """
    sweeps = max(1, -(-moves // max(1, n_zones - 2)))
    return AnnealSchedule(t_start=1.0, t_min_ratio=1.0, patience_sweeps=sweeps,
                          max_sweeps=sweeps, restarts=1, window_blocks=0)


@dataclass(frozen=True)
class SearchTrace:
    """What the search did, one entry per sweep (``n - 2`` proposed moves), shape (sweeps,).

    ``restart``: run number; ``temperature`` (loss units); ``loss``: the current tree's loss
    after the sweep; ``best_loss``: the best loss of all runs so far; ``accept_rate``:
    accepted / proposed moves; ``uphill_accept_rate``: accepted / proposed uphill moves
    (nan when none was proposed). ``run_loss``, shape (restarts,): each run's loss after
    its polish. ``moves_proposed``: total proposals.
    """

    restart: np.ndarray
    temperature: np.ndarray
    loss: np.ndarray
    best_loss: np.ndarray
    accept_rate: np.ndarray
    uphill_accept_rate: np.ndarray
    run_loss: np.ndarray
    moves_proposed: int

    @property
    def sweeps(self) -> int:
        """Return the number of sweeps recorded."""
        return len(self.loss)


class _Tree:
    """A mutable dendrogram with the cross sums needed for O(1) move proposals."""

    def __init__(self, D: np.ndarray, tree: Dendrogram) -> None:
        n = tree.n_zones
        self.n = n
        self.root = tree.root
        members = np.zeros((2 * n - 1, n))
        members[np.arange(n), np.arange(n)] = 1.0
        self.left = [-1] * (2 * n - 1)
        self.right = [-1] * (2 * n - 1)
        self.parent = [-1] * (2 * n - 1)
        self.size = [1] * (2 * n - 1)
        for k, (a, b) in enumerate(tree.merges):
            v = n + k
            self.left[v], self.right[v] = a, b
            self.parent[a] = self.parent[b] = v
            self.size[v] = self.size[a] + self.size[b]
            members[v] = members[a] + members[b]
        self.cross = members @ D @ members.T  # (2n-1, 2n-1) sums of D between leaf sets
        self.d = [0.0] * n + [float(self.cross[a, b]) / (self.size[a] * self.size[b])
                              for a, b in tree.merges]
        self.loss = float(sum(self.d))
        self.edges = [v for v in range(n, 2 * n - 1) if v != self.root]

    def propose(self, y: int, option: int) -> tuple[float, float, float]:
        """Return (dL, new d_y, new d_x) of moving subtree ``option`` (0: right, 1: left)."""
        x = self.parent[y]
        i, j = self.left[y], self.right[y]
        k = self.right[x] if self.left[x] == y else self.left[x]
        if option:  # swap i and k: y = (j, k), x = (y, i)
            i, j = j, i
        # now y = (i, k), x = (y, j)
        item = self.cross.item
        size_i, size_j, size_k = self.size[i], self.size[j], self.size[k]
        dy = item(i, k) / (size_i * size_k)
        dx = (item(i, j) + item(k, j)) / ((size_i + size_k) * size_j)
        return dy + dx - self.d[y] - self.d[x], dy, dx

    def apply(self, y: int, option: int, dL: float, dy: float, dx: float) -> None:
        """Make the move :meth:`propose` evaluated."""
        x = self.parent[y]
        k_is_right = self.left[x] == y
        k = self.right[x] if k_is_right else self.left[x]
        if option:  # k replaces y's left child i, which goes up to x
            moved, self.left[y] = self.left[y], k
        else:  # k replaces y's right child j, which goes up to x
            moved, self.right[y] = self.right[y], k
        if k_is_right:
            self.right[x] = moved
        else:
            self.left[x] = moved
        self.parent[k], self.parent[moved] = y, x
        a, b = self.left[y], self.right[y]
        self.size[y] = self.size[a] + self.size[b]
        row = self.cross[a] + self.cross[b]
        self.cross[y] = row
        self.cross[:, y] = row
        self.d[y], self.d[x] = dy, dx
        self.loss += dL

    def snapshot(self) -> tuple[list[int], list[int]]:
        """Return copies of the child lists (enough to rebuild the tree)."""
        return self.left.copy(), self.right.copy()

    def descend(self) -> None:
        """Make improving moves until none of the 2(n-2) moves improves the loss."""
        improved = True
        while improved:
            improved = False
            for y in self.edges:
                for option in (0, 1):
                    dL, dy, dx = self.propose(y, option)
                    if dL < -_IMPROVES:
                        self.apply(y, option, dL, dy, dx)
                        improved = True


def _to_dendrogram(children: tuple[list[int], list[int]], root: int,
                   names: tuple[str, ...]) -> Dendrogram:
    left, right = children
    n = len(names)

    def nested(v: int) -> object:
        return names[v] if v < n else [nested(left[v]), nested(right[v])]
    return Dendrogram.from_nested(nested(root), names)  # type: ignore[arg-type]


def random_tree(names: tuple[str, ...], rng: np.random.Generator) -> Dendrogram:
    """Return a dendrogram built by merging uniformly chosen pairs of clusters."""
    clusters = list(range(len(names)))
    merges = []
    for k in range(len(names) - 1):
        a, b = sorted(rng.choice(len(clusters), size=2, replace=False).tolist(), reverse=True)
        merges.append((clusters.pop(a), clusters.pop(b)))
        clusters.append(len(names) + k)
    return Dendrogram(tuple(merges), names)


def _auto_temperature(state: _Tree) -> float:
    uphill = [dL for y in state.edges for option in (0, 1)
              if (dL := state.propose(y, option)[0]) > _IMPROVES]
    return float(np.median(uphill)) / math.log(2.0) if uphill else 0.0


def mcmc_tree(
    D: np.ndarray,
    start: Dendrogram,
    rng: np.random.Generator,
    schedule: AnnealSchedule | None = None,
) -> tuple[Dendrogram, SearchTrace]:
    """Return the dendrogram of least loss the annealed MCMC found, and its trace.

    Parameters
    ----------
    D
        Symmetric distance matrix between zones, shape (n, n).
    start
        The first run's start tree (e.g. average linkage); the result is never worse.
    rng
        Source of every random choice (moves, acceptance, restart trees).
    schedule
        Temperatures, stopping rule and restarts (default :class:`AnnealSchedule`).
    """
    schedule = schedule or AnnealSchedule()
    D = np.asarray(D, dtype=float)
    names = start.names
    log = _TraceLog()
    best_tree, best_loss = start, _Tree(D, start).loss
    if start.n_zones < 3:
        return start.canonical(), log.finish()
    t_start = schedule.t_start
    if t_start is None:
        t_start = _auto_temperature(_Tree(D, start))
    for restart in range(schedule.restarts):
        state = _Tree(D, start if restart == 0 else random_tree(names, rng))
        run_best = _run(state, t_start, schedule, rng, log, restart, best_loss)
        tree = _to_dendrogram(run_best, state.root, names)
        if schedule.window_blocks:
            state = _Tree(D, tree)
            state.descend()
            tree = window_descent(D, _to_dendrogram(state.snapshot(), state.root, names),
                                  schedule.window_blocks)
        loss = _Tree(D, tree).loss
        log.run_losses.append(loss)
        if loss < best_loss - _IMPROVES:
            best_tree, best_loss = tree, loss
    return best_tree.canonical(), log.finish()


def _run(state: _Tree, t_start: float, schedule: AnnealSchedule, rng: np.random.Generator,
         log: _TraceLog, restart: int, best_so_far: float) -> tuple[list[int], list[int]]:
    """Anneal ``state`` until the stopping rule; return the child lists of its best tree."""
    edges = state.edges
    t_floor = t_start * schedule.t_min_ratio
    cooling = schedule.cooling
    temperature = t_start
    run_best, run_best_loss = state.snapshot(), state.loss
    stale = 0
    for _sweep in range(schedule.max_sweeps):
        picks = rng.integers(0, len(edges), size=len(edges)).tolist()
        options = rng.integers(0, 2, size=len(edges)).tolist()
        uniforms = rng.random(len(edges)).tolist()
        accepted = uphill = uphill_accepted = 0
        improved = False
        for pick, option, u in zip(picks, options, uniforms, strict=True):
            y = edges[pick]
            dL, dy, dx = state.propose(y, option)
            if dL > 0.0:
                uphill += 1
                if temperature <= 0.0 or u >= math.exp(-dL / temperature):
                    continue
                uphill_accepted += 1
            state.apply(y, option, dL, dy, dx)
            accepted += 1
            if state.loss < run_best_loss - _IMPROVES:
                run_best, run_best_loss = state.snapshot(), state.loss
                improved = True
        best_so_far = min(best_so_far, run_best_loss)
        log.add(restart, temperature, state.loss, best_so_far, accepted / len(edges),
                uphill_accepted / uphill if uphill else math.nan, len(edges))
        cold = temperature <= t_floor * (1.0 + 1e-9)
        stale = 0 if improved or not cold else stale + 1
        if cold and stale >= schedule.patience_sweeps:
            break
        temperature = max(temperature * cooling, t_floor)
    return run_best


class _TraceLog:
    """Collects one row per sweep for :class:`SearchTrace`."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float, float, float, float]] = []
        self.moves = 0
        self.run_losses: list[float] = []

    def add(self, restart: int, temperature: float, loss: float, best: float,
            accept_rate: float, uphill_rate: float, moves: int) -> None:
        self.rows.append((restart, temperature, loss, best, accept_rate, uphill_rate))
        self.moves += moves

    def finish(self) -> SearchTrace:
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * 6
        return SearchTrace(
            restart=np.asarray(cols[0], dtype=np.int64),
            temperature=np.asarray(cols[1], dtype=float),
            loss=np.asarray(cols[2], dtype=float),
            best_loss=np.asarray(cols[3], dtype=float),
            accept_rate=np.asarray(cols[4], dtype=float),
            uphill_accept_rate=np.asarray(cols[5], dtype=float),
            run_loss=np.asarray(self.run_losses, dtype=float),
            moves_proposed=self.moves,
        )
