"""SGFusion study tables (docs/sgfusion_study.md) from ``simfl compare`` directories.

Usage::

    python benchmarks/sgfusion_study.py compare DIR [DIR ...]      # one DIR per seed
    python benchmarks/sgfusion_study.py partners [--seeds 0,1,2]   # no training
    python benchmarks/sgfusion_study.py figures DIR --out docs/figures   # redraw one DIR

``compare`` reads each comparison's ``zone_runs.json`` and ``zone_table.csv`` (written by
``simfl compare`` for zone algorithms) and prints markdown tables: per algorithm the pooled
RMSE (mean and range over the seeds), its improvement over zone FL, the zones that improve,
the partners per zone and round, simulated seconds and bytes per round; per seed the fitted
HRG against the generator's hidden hierarchy.

``partners`` builds SGFusion's world and runs only its preparation (histograms, HRG, p_LCA)
for countries of 2x3, 3x3 and 4x4 zones and for more users per zone: the expected partners
per zone and round and the HRG's recovery of the true hierarchy (against random trees over
the same zones), without any training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfl.algorithms.geographic.sgfusion import SGFusion
from simfl.algorithms.geographic.tree_compare import clade_recovery
from simfl.engine.simulation import Simulation
from simfl.learning.geo_workouts import random_tree
from simfl.scenario.load import load_scenario
from simfl.scenario.world import build_world

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "sgfusion_demo.yaml"
RANDOM_TREES = 200  # random trees per fit for the chance level of clade recovery


def markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """Return ``frame`` as a markdown table, numbers with ``digits`` significant digits."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.{digits}g}"
        return str(value)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def late_rmse(seed_dir: Path, evaluations: int = 3) -> dict[str, float]:
    """Return each algorithm's pooled RMSE averaged over its last ``evaluations``: less
    noisy than the last one alone (the pooled RMSE moves by about 1 bpm between rounds)."""
    results = pd.read_csv(seed_dir / "results.csv")
    metrics = pd.read_parquet(seed_dir / "metrics.parquet")
    rows = metrics[(metrics["node"] == "personalized") & (metrics["metric"] == "rmse")]
    label = dict(zip(results["run"], results["algorithm"], strict=True))
    return {label[run]: float(group.sort_values("round")["value"].iloc[-evaluations:].mean())
            for run, group in rows.groupby("run")}


def compare_tables(dirs: list[Path]) -> str:
    """Return the markdown tables of several comparisons (one per seed) of zone algorithms."""
    rows = []
    recovery = []
    for seed_dir in dirs:
        runs: dict[str, Any] = json.loads((seed_dir / "zone_runs.json").read_text())
        table = pd.read_csv(seed_dir / "zone_table.csv")
        late = late_rmse(seed_dir)
        base = runs["zone_fl"]["final_metrics"]["rmse"]
        for algo, s in runs.items():
            rounds = max(1, int(s["rounds_completed"]))
            column = f"{algo}_improvement_pct"
            rows.append({
                "seed": s["seed"], "algorithm": algo, "rmse": s["final_metrics"]["rmse"],
                "improvement_pct": 100.0 * (base - s["final_metrics"]["rmse"]) / base,
                "rmse_last3": late[algo],
                "improvement_last3_pct": 100.0 * (late["zone_fl"] - late[algo]) / late["zone_fl"],
                "zones_improved": int((table[column] > 0).sum()) if column in table else None,
                "zones": len(table), "partners": s["details"]["mean_sampled_zones"],
                "s_per_round": s["simulated_time_s"] / rounds,
                "kB_per_round": s["bytes_moved"] / rounds / 1e3,
                "wall_s": s["wall_time_s"]})
            details = s["details"]
            if details.get("hrg") and details.get("true_hierarchy") is not None:
                hits = [clade_recovery(f["tree"], details["true_hierarchy"])
                        for f in details["hrg"]]
                recovery.append({"seed": s["seed"], "algorithm": algo,
                                 "clades": f"{sum(h for h, _ in hits)}/{sum(t for _, t in hits)}",
                                 "expected_partners": details["expected_sampled_zones"],
                                 "drawn_partners": details["mean_sampled_zones"]})
    frame = pd.DataFrame(rows)
    summary = frame.groupby("algorithm", sort=False).agg(
        seeds=("seed", "count"), rmse=("rmse", "mean"), rmse_min=("rmse", "min"),
        rmse_max=("rmse", "max"), improvement_pct=("improvement_pct", "mean"),
        improvement_last3_pct=("improvement_last3_pct", "mean"),
        improvement_min=("improvement_pct", "min"), improvement_max=("improvement_pct", "max"),
        zones_improved=("zones_improved", "sum"), zones=("zones", "sum"),
        partners=("partners", "mean"), s_per_round=("s_per_round", "mean"),
        kB_per_round=("kB_per_round", "mean"), wall_s=("wall_s", "mean")).reset_index()
    summary["zones_improved"] = [
        "" if algo == "zone_fl" else f"{int(a)}/{int(b)}" for algo, a, b in
        zip(summary["algorithm"], summary["zones_improved"], summary["zones"], strict=True)]
    summary = summary.drop(columns="zones")
    parts = ["### per algorithm (mean over seeds; min..max)", "",
             markdown(summary), "",
             "### per seed", "", markdown(frame)]
    if recovery:
        parts += ["", "### HRG against the hidden hierarchy", "",
                  markdown(pd.DataFrame(recovery), 3)]
    return "\n".join(parts)


def partner_table(seeds: list[int]) -> str:
    """Return expected partners and HRG recovery for several country sizes (no training)."""
    cases = [("2x3, 3 users/zone (demo)", 2, 3, 3.0, 0.7), ("3x3, 3 users/zone", 3, 3, 3.0, 0.7),
             ("4x4, 3 users/zone", 4, 4, 3.0, 0.7), ("2x3, 12 users/zone", 2, 3, 12.0, 0.7),
             ("2x3, 12 users/zone, spread 2.0", 2, 3, 12.0, 2.0)]
    rows = []
    for label, r, c, users, spread in cases:
        for seed in seeds:
            countries = (f"[{{name: norway, rows: {r}, cols: {c}}}, "
                         f"{{name: spain, rows: {r}, cols: {c}}}]")
            scenario = load_scenario(DEMO, [f"data.geo_workouts.countries={countries}",
                                            f"data.geo_workouts.users_per_zone={users}",
                                            f"data.geo_workouts.hierarchy_spread={spread}"],
                                     seed=seed)
            sim = Simulation(scenario.epoch, scenario.seed)
            world = build_world(scenario, sim)
            algo = SGFusion(sim, world, scenario.algorithm)
            sim.env.run(sim.process(algo.prepare()))
            assert algo.P is not None and world.layout is not None
            hits = [clade_recovery(f.tree.to_nested(), world.layout.hierarchy)
                    for f in algo.fits.values()]
            rng = np.random.default_rng(seed)
            chance = [clade_recovery(random_tree(list(f.names), rng), world.layout.hierarchy)[0]
                      for f in algo.fits.values() for _ in range(RANDOM_TREES)]
            rows.append({"case": label, "seed": seed,
                         "zones_per_country": r * c,
                         "expected_partners": float(algo.P.sum(axis=1).mean()),
                         "max_partners": float(algo.P.sum(axis=1).max()),
                         "clades_recovered": sum(h for h, _ in hits),
                         "by_chance": float(np.sum(chance)) / RANDOM_TREES,
                         "clades": sum(t for _, t in hits)})
    frame = pd.DataFrame(rows)
    summary = frame.groupby("case", sort=False).agg(
        zones_per_country=("zones_per_country", "first"),
        expected_partners=("expected_partners", "mean"),
        max_partners=("max_partners", "max"),
        clades_recovered=("clades_recovered", "sum"), by_chance=("by_chance", "sum"),
        clades=("clades", "sum")).reset_index()
    summary["recovered"] = [f"{a}/{b} ({100 * a / b:.0f} %)" for a, b in
                            zip(summary["clades_recovered"], summary["clades"], strict=True)]
    summary["random_tree"] = [f"{a:.1f}/{b} ({100 * a / b:.0f} %)" for a, b in
                              zip(summary["by_chance"], summary["clades"], strict=True)]
    return markdown(summary.drop(columns=["clades_recovered", "by_chance", "clades"]), 3)


def redraw(seed_dir: Path, out: Path, prefix: str = "sgfusion_") -> list[Path]:
    """Redraw a comparison's zone figures (and copy its RMSE and bytes figures) into ``out``,
    each file name prefixed; return the written paths."""
    import shutil
    import tempfile

    from simfl.algorithms.geographic.zone_report import write_zone_report

    runs: dict[str, Any] = json.loads((seed_dir / "zone_runs.json").read_text())
    seed = next(iter(runs.values()))["seed"]
    results = pd.read_csv(seed_dir / "results.csv")
    metrics = pd.read_parquet(seed_dir / "metrics.parquet")
    metrics["algorithm"] = metrics["run"].map(dict(zip(results["run"], results["algorithm"],
                                                       strict=True)))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        write_zone_report(list(runs.items()), load_scenario(DEMO, seed=seed), metrics,
                          Path(tmp))
        figures = [*Path(tmp, "figures").glob("*.png"),
                   *(seed_dir / "figures" / n for n in ("rmse_vs_time.png", "bytes_by_link.png"))]
        for figure in figures:
            written.append(Path(shutil.copyfile(figure, out / f"{prefix}{figure.name}")))
    return written


def main() -> None:
    """Print the requested tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("compare")
    c.add_argument("dirs", nargs="+", type=Path)
    p = sub.add_parser("partners")
    p.add_argument("--seeds", default="0,1,2")
    f = sub.add_parser("figures")
    f.add_argument("dir", type=Path)
    f.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.what == "compare":
        print(compare_tables(args.dirs))
    elif args.what == "figures":
        print("\n".join(str(p) for p in redraw(args.dir, args.out)))
    else:
        print(partner_table([int(s) for s in args.seeds.split(",")]))


if __name__ == "__main__":
    main()
