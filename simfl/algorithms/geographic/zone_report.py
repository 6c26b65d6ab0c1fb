"""What ``simfl compare`` adds for zone algorithms (SGFusion, arXiv 2510.23455, and its
baselines): per-zone and per-algorithm tables, the zone map coloured by the dendrogram's
clusters, the dendrogram, per-zone improvement bars over zone FL, and the fitted HRG
against the generator's true hierarchy.

Imports pandas and matplotlib inside the functions (modules under ``simfl.algorithms`` are
imported whenever a scenario is validated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram
from simfl.algorithms.geographic.tree_compare import (
    clade_recovery,
    cut_clusters,
    group_recovery,
)

if TYPE_CHECKING:
    import pandas as pd

    from simfl.scenario.schema import Scenario

BASELINE = "zone_fl"


def write_zone_report(runs: Sequence[tuple[str, Mapping[str, Any]]], scenario: Scenario,
                      metrics: pd.DataFrame, out_dir: Path) -> str:
    """Write ``zone_table.csv``, ``zone_algorithms.csv``, ``zone_runs.json`` (each run's
    summary, for later studies) and figures into ``out_dir``.

    ``metrics`` has an ``algorithm`` column. Returns the text to print: the algorithm
    table and how well the fitted HRG recovers the true hierarchy.
    """
    from simfl.analysis.zone_tables import algorithm_table, final_zone_values, zone_table
    from simfl.atomic import atomic_path, write_json

    metric = "accuracy" if "accuracy" in set(metrics["metric"]) else "rmse"
    names = [a for a, _ in runs]
    baseline = BASELINE if BASELINE in names else None
    details = next((dict(s["details"]) for _, s in runs if "details" in s), {})
    country_of = details.get("country_of", {})
    final = final_zone_values(metrics.loc[metrics["algorithm"].isin(names)], metric)
    table = zone_table(final, metric, baseline, country_of)
    algos = algorithm_table(runs, table, metric, baseline)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "zone_runs.json", {a: dict(s) for a, s in runs})
    for frame, name in ((table, "zone_table.csv"), (algos, "zone_algorithms.csv")):
        with atomic_path(out_dir / name) as tmp:
            frame.to_csv(tmp, index=False)
    lines = [algos.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
    fitted = next(((a, s["details"]) for a, s in runs if s.get("details", {}).get("hrg")),
                  None)
    figures = out_dir / "figures"
    if baseline is not None and len(names) > 1:
        from simfl.analysis.zone_figures import plot_zone_improvement

        others = [a for a in names if a != baseline]
        plot_zone_improvement(table, others, baseline=baseline,
                              path=figures / "zone_improvement.png",
                              title=f"{scenario.name}: per-zone {metric} improvement")
    if fitted is not None:
        lines += _draw_hrg(fitted[0], fitted[1], scenario, figures)
    return "\n".join(lines)


def _draw_hrg(algorithm: str, details: Mapping[str, Any], scenario: Scenario,
              figures: Path) -> list[str]:
    """Draw each domain's dendrogram and the zone map by cluster; return the HRG lines."""
    from simfl.analysis.dendrogram import plot_dendrogram
    from simfl.analysis.zone_map import plot_zone_map
    from simfl.scenario.geo_datasets import scenario_zones

    names = list(details["zones"])
    fits = list(details["hrg"])
    clusters: dict[str, int] = {}
    truth = details.get("true_hierarchy")
    found = total = 0
    for fit in fits:
        tree = Dendrogram.from_nested(fit["tree"], fit["zones"])
        d = np.asarray(fit["d"], dtype=float)
        label = fit["domain"]
        suffix = "" if len(fits) == 1 else f"_{label}"
        title = f"HRG of {label}: {tree.n_zones} zones, {fit['method']}, loss {fit['loss']:.4g}"
        plot_dendrogram(tree.merges, d.tolist(), tree.names,
                        path=figures / f"dendrogram{suffix}.png", title=title)
        per_tree = 2 if len(fits) > 1 else max(2, min(4, tree.n_zones // 3))
        first = len(set(clusters.values()))
        for zone, k in cut_clusters(tree, d, per_tree).items():
            clusters[zone] = first + k
        if truth is not None and tree.n_zones > 1:
            hits, count = clade_recovery(fit["tree"], truth)
            found, total = found + hits, total + count
    by_name = {z.name: z for z in scenario_zones(scenario.data)}
    P = np.asarray(details["P"], dtype=float)
    edges = {names[k]: (names[int(np.argmax(P[k]))],) for k in range(len(names))
             if P[k].max() > 0}
    plot_zone_map([by_name[n] for n in names], clusters, edges=edges,
                  path=figures / "zone_map.png",
                  title=f"{scenario.name}: zones by HRG cluster ({algorithm}); lines join "
                        "each zone to its likeliest partner")
    loss = sum(float(f["loss"]) for f in fits)
    methods = ", ".join(sorted({str(f["method"]) for f in fits}))
    lines = [f"HRG ({algorithm}): {len(fits)} tree(s) ({methods}), total loss {loss:.5g}; "
             "partners per zone and round: expected "
             f"{details.get('expected_sampled_zones', float('nan')):.3g}, drawn "
             f"{details.get('mean_sampled_zones', float('nan')):.3g}"]
    if truth is not None:
        lines.append(f"true hierarchy: {found}/{total} of its subtrees (within the fitted "
                     "domains) are subtrees of the fitted HRG")
    country_of = details.get("country_of", {})
    if country_of and len(fits) == 1:
        kept = group_recovery(fits[0]["tree"], country_of)
        lines.append(f"countries whose zones form one subtree: {sum(kept.values())}/"
                     f"{len(kept)} ({', '.join(g for g, ok in kept.items() if ok) or 'none'})")
    return lines
