"""The ``simfl hrg`` command: fit SGFusion's dendrogram of zones to a distance file."""

from __future__ import annotations

import argparse
from pathlib import Path

from simfl.errors import SimflError

_METHODS = ("auto", "exact", "mcmc", "average_linkage")  # hrg_fit.METHODS, kept here so
# that building the parser imports no numerics


def cmd_hrg(args: argparse.Namespace) -> int:
    """Fit the HRG, print its loss, write the tree JSON and a dendrogram figure."""
    from simfl.algorithms.geographic.dendrogram import tree_loss
    from simfl.algorithms.geographic.distance_files import read_distances
    from simfl.algorithms.geographic.hrg_file import fit_to_json
    from simfl.algorithms.geographic.hrg_fit import average_linkage_tree, fit_hrg
    from simfl.analysis.dendrogram import plot_dendrogram
    from simfl.atomic import write_json

    if args.out.suffix.lower() != ".json":
        raise SimflError(f"--out {args.out}: the tree is written as JSON; give a file name "
                         "ending in .json")
    figure = args.figure if args.figure is not None else args.out.with_suffix(".png")
    if figure.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise SimflError(f"--figure {figure}: use a file name ending in .png, .pdf or .svg")
    D, names = read_distances(args.distances)
    fit = fit_hrg(D, names, method=args.method, seed=args.seed)
    baseline_loss = (fit.loss if fit.method == "average_linkage"
                     else tree_loss(average_linkage_tree(D, names), D))
    record = fit_to_json(fit)
    record.update(source=str(args.distances), seed=args.seed, average_linkage_loss=baseline_loss)
    write_json(args.out, record)
    plot_dendrogram(fit.tree.merges, fit.d.tolist(), fit.names, path=figure,
                    title=f"{args.distances.name}: {len(names)} zones, {fit.method}, "
                          f"loss {fit.loss:.5g}")
    print(f"{len(names)} zones, method {fit.method}: loss {fit.loss:.6g} "
          f"(average linkage {baseline_loss:.6g})")
    if fit.trace is not None and fit.trace.sweeps:
        t = record["trace"]
        uphill = "n/a" if t["uphill_accept_rate"] is None else f"{t['uphill_accept_rate']:.1%}"
        print(f"mcmc: {t['sweeps']} sweeps, {t['moves_proposed']} moves, "
              f"{t['accept_rate']:.1%} accepted ({uphill} of uphill moves), "
              f"runs ended at {', '.join(f'{x:.6g}' for x in t['run_loss'])}")
    print(f"wrote {args.out} and {figure}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Add ``hrg`` to the CLI's subcommands."""
    p = sub.add_parser("hrg", help="fit SGFusion's dendrogram of zones to a distance matrix")
    p.add_argument("distances", type=Path,
                   help="CSV matrix with a header of zone names, or fitHRG .pairs "
                        "('i j distance' lines)")
    p.add_argument("--out", type=Path, required=True, help="tree JSON to write")
    p.add_argument("--method", choices=_METHODS, default="auto",
                   help="exact (<= 18 zones), mcmc, average_linkage; auto: exact up to 16 "
                        "zones, else mcmc")
    p.add_argument("--seed", type=int, default=0, help="seed of the MCMC (default 0)")
    p.add_argument("--figure", type=Path, default=None,
                   help="dendrogram figure (default: the --out name with .png)")
    p.set_defaults(func=cmd_hrg)
