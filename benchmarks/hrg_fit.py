"""Benchmark: SGFusion's HRG fit - exact optimum, annealed MCMC, average linkage, official.

Usage::

    python benchmarks/hrg_fit.py [--quick] [--pairs FILE.pairs] [--fithrg PATH] [--json out.json]

Measures, in one run (wall times on this machine, seeds fixed):

- ``exact``: time and loss against the number of zones, 4 .. 16 (17 unless ``--quick``);
- ``mcmc`` (default schedule) against ``exact`` on uniform-random, histogram and clustered
  matrices of 8 .. 16 zones: how often it reaches the optimum and its worst relative gap;
- ``mcmc`` on 30, 60 and 100 zones against average linkage and against the official
  sampler (fixed temperature 1, 131,072 moves from a random tree: ``official_schedule``);
- with ``--pairs``, all methods on that file; with ``--fithrg`` (Clauset's fitHRG as
  modified by the SGFusion authors, built with ``g++ -O3 -o fitHRG fitHRG.cc`` outside the
  repository) also the real binary, run ``--runs`` times in a temporary directory.

Matrix kinds: ``uniform`` (i.i.d. U(0, 1) distances, no structure: a spin-glass-like
landscape), ``histogram`` (L2 distances between Dirichlet(2) 10-bin histograms, like
SGFusion's zone graph) and ``clustered`` (Euclidean distances of points in 4 blobs).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from simfl.algorithms.geographic.dendrogram import tree_loss
from simfl.algorithms.geographic.distance_files import read_distances
from simfl.algorithms.geographic.hrg_fit import average_linkage_tree, fit_hrg
from simfl.algorithms.geographic.hrg_mcmc import mcmc_tree, official_schedule, random_tree
from simfl.atomic import write_json

GAP_TOL = 1e-9  # relative gap below which a fit counts as the optimum


def uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    upper = np.triu(rng.random((n, n)), 1)
    return upper + upper.T


def histogram(n: int, rng: np.random.Generator) -> np.ndarray:
    h = rng.dirichlet(np.full(10, 2.0), size=n)
    return np.sqrt(((h[:, None] - h[None]) ** 2).sum(-1))


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centers = 4.0 * rng.random((4, 4))
    x = centers[rng.integers(0, 4, n)] + 0.2 * rng.standard_normal((n, 4))
    return np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))


KINDS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "uniform": uniform, "histogram": histogram, "clustered": clustered}


def timed(fn: Callable[..., float], *args: object, **kwargs: object) -> tuple[float, float]:
    """Return ``fn(*args, **kwargs)`` and its wall time in seconds."""
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t0


def fit_loss(D: np.ndarray, names: list[str] | None = None, **kwargs: object) -> float:
    return fit_hrg(D, names, **kwargs).loss  # type: ignore[arg-type]


def names_of(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def official_loss(D: np.ndarray, seed: int) -> float:
    rng = np.random.default_rng(seed)
    names = tuple(names_of(len(D)))
    tree, _trace = mcmc_tree(D, random_tree(names, rng), rng, official_schedule(len(D)))
    return tree_loss(tree, D)


def exact_scaling(max_n: int) -> list[dict[str, float]]:
    rows = []
    for n in range(4, max_n + 1):
        D = histogram(n, np.random.default_rng(n))
        loss, wall_s = timed(fit_loss, D, method="exact")
        rows.append({"n": n, "loss": loss, "wall_s": wall_s})
        print(f"exact n={n:2d}: loss {loss:.5f} in {wall_s:.3f} s")
    return rows


def mcmc_vs_exact(sizes: list[int], cases: int) -> list[dict[str, object]]:
    rows = []
    for kind, make in KINDS.items():
        for n in sizes:
            hits, gaps, times = 0, [], []
            for case in range(cases):
                D = make(n, np.random.default_rng(1000 * n + case))
                exact = fit_hrg(D, method="exact").loss
                loss, wall_s = timed(fit_loss, D, method="mcmc", seed=case)
                gap = loss / exact - 1.0
                hits += gap <= GAP_TOL
                gaps.append(gap)
                times.append(wall_s)
            rows.append({"kind": kind, "n": n, "cases": cases, "optimum_reached": hits,
                         "max_gap": max(gaps), "mean_wall_s": float(np.mean(times))})
            print(f"mcmc vs exact {kind:9s} n={n:2d}: optimum {hits}/{cases}, worst gap "
                  f"{100 * max(gaps):.3f} %, {np.mean(times):.2f} s per fit")
    return rows


def large(sizes: list[int], seeds: list[int]) -> list[dict[str, object]]:
    rows = []
    for kind, make in KINDS.items():
        for n in sizes:
            D = make(n, np.random.default_rng(n + 7))
            average = tree_loss(average_linkage_tree(D, names_of(n)), D)
            fits = [timed(fit_loss, D, method="mcmc", seed=s) for s in seeds]
            official = official_loss(D, seeds[0])
            losses = [loss for loss, _ in fits]
            rows.append({"kind": kind, "n": n, "average_linkage": average, "mcmc": losses,
                         "mcmc_wall_s": float(np.mean([w for _, w in fits])),
                         "official_sampler": official})
            print(f"n={n:3d} {kind:9s}: average linkage {average:.4f}, mcmc "
                  f"{' / '.join(f'{x:.4f}' for x in losses)} ({np.mean([w for _, w in fits]):.1f}"
                  f" s), official sampler {official:.4f}")
    return rows


def run_fithrg(binary: Path, pairs: Path, runs: int) -> list[dict[str, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            work = Path(tmp) / pairs.name
            shutil.copy(pairs, work)
            t0 = time.perf_counter()
            subprocess.run([str(binary.resolve()), "-f", work.name], cwd=tmp, check=False,
                           stdout=subprocess.DEVNULL)
            wall_s = time.perf_counter() - t0
            info = (Path(tmp) / f"{pairs.stem}_best-dendro.info").read_text()
            match = re.search(r"LogLikelihood : ([-\d.e]+)", info)
            if match:
                rows.append({"loss": float(match.group(1)), "wall_s": wall_s})
    return rows


def pairs_file(path: Path, binary: Path | None, runs: int) -> dict[str, object]:
    D, names = read_distances(path)
    out: dict[str, object] = {"file": str(path), "zones": len(names)}
    for method in ("exact", "average_linkage"):
        loss, wall_s = timed(fit_loss, D, list(names), method=method)
        out[method] = loss
        print(f"{path.name}: {method} {loss:.5f} in {wall_s:.3f} s")
    fits = [timed(fit_loss, D, list(names), method="mcmc", seed=s) for s in range(runs)]
    mcmc = [loss for loss, _ in fits]
    out["mcmc"] = mcmc
    print(f"{path.name}: mcmc over {runs} seeds {min(mcmc):.5f} .. {max(mcmc):.5f}, "
          f"{np.mean([w for _, w in fits]):.3f} s per fit")
    official = [official_loss(D, s) for s in range(runs)]
    out["official_sampler"] = official
    print(f"{path.name}: official sampler (simfl's) mean {np.mean(official):.4f}, "
          f"{min(official):.4f} .. {max(official):.4f}")
    if binary is not None:
        real = run_fithrg(binary, path, runs)
        out["fithrg"] = real
        losses = [r["loss"] for r in real]
        print(f"{path.name}: official fitHRG binary mean {np.mean(losses):.4f}, "
              f"{min(losses):.4f} .. {max(losses):.4f}, {np.mean([r['wall_s'] for r in real]):.2f}"
              " s per run")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and sizes")
    parser.add_argument("--pairs", type=Path, default=None, help="a fitHRG .pairs file")
    parser.add_argument("--fithrg", type=Path, default=None, help="the official fitHRG binary")
    parser.add_argument("--runs", type=int, default=10, help="runs per method on --pairs")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()
    results: dict[str, object] = {}
    if args.pairs is not None:
        results["pairs"] = pairs_file(args.pairs, args.fithrg, args.runs)
    results["exact_scaling"] = exact_scaling(16 if args.quick else 17)
    results["mcmc_vs_exact"] = mcmc_vs_exact([8, 12, 16] if args.quick else [8, 10, 12, 14, 16],
                                             3 if args.quick else 8)
    results["large"] = large([30, 60] if args.quick else [30, 60, 100],
                             [1] if args.quick else [1, 2])
    if args.json is not None:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
