"""The FuseFL study: FuseFL, its one-shot baselines and FedAvg over a grid of worlds.

Usage::

    python benchmarks/fusefl_study.py --out runs/fusefl_study [--parts cnn,mlp,synthetic,resnet]
                                      [--seeds 0,1,2] [--workers 1]
    python benchmarks/fusefl_study.py --out runs/fusefl_study --report docs/figures

Every world starts from ``scenarios/fusefl_digits.yaml`` (the network, devices, training and
the 10% public split stay as they are) and varies the model, the data, Dirichlet alpha and
the number of clients M; in each world FuseFL runs for every K and adaptor the model
allows, and one-shot FedAvg, Ensemble, FedDF and 50-round FedAvg once. ``--report`` reads
the results back, prints the tables of ``docs/fusefl_study.md`` and draws its figures.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import pandas as pd

from simfl.scenario.load import load_scenario
from simfl.studies.executors import run_jobs
from simfl.studies.variants import with_algorithm, with_values

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "fusefl_digits.yaml"
BASELINES = ("oneshot_fedavg", "ensemble", "feddf", "fedavg")

def _fusefl(ks: tuple[int, ...], adaptors: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"blocks": k, "adaptor": a} for k, a in itertools.product(ks, adaptors)]


CNN = {"model.kind": "cnn", "model.hidden": [32, 64]}
MLP = {"model.kind": "mlp", "model.hidden": [128, 128, 128]}
RESNET = {"model.kind": "resnet8", "model.hidden": [16]}

# part -> (world values, FuseFL variants, alphas, Ms, with the baselines)
PARTS: dict[str, tuple[dict[str, Any], list[dict[str, Any]], tuple[float, ...],
                       tuple[int, ...], bool]] = {
    "cnn": (CNN, _fusefl((2,), ("conv1x1", "avg")), (0.1, 0.3, 0.5), (5, 10), True),
    "mlp": (MLP, _fusefl((2, 3), ("linear", "avg")), (0.1, 0.3, 0.5), (5, 10), True),
    "synthetic": ({"data.dataset": "synthetic", **MLP}, _fusefl((2, 3), ("linear", "avg")),
                  (0.0,), (5, 10), True),
    "resnet": (RESNET, _fusefl((2, 3, 4), ("conv1x1", "avg")), (0.3,), (5,), True),
    # the official behaviours, and how much CCVR does on features trained for 1 epoch a stage
    "official": (RESNET, [{"blocks": 2, "adaptor": "conv1x1", "ccvr_formula": "official"},
                          {"blocks": 2, "adaptor": "conv1x1", "freeze_bn_stats": False},
                          {"blocks": 2, "adaptor": "conv1x1", "local_epochs": 2}],
                 (0.3,), (5,), False),
    # the MLP worlds again at the official learning rate (0.01 instead of 0.05)
    "mlp_lr": ({**MLP, "training.lr": 0.01}, _fusefl((2, 3), ("linear", "avg")),
               (0.1, 0.3, 0.5), (5, 10), True),
    "synthetic_lr": ({"data.dataset": "synthetic", **MLP, "training.lr": 0.01},
                     _fusefl((2, 3), ("linear", "avg")), (0.0,), (5, 10), True),
    # the most skewed CNN world again at the official learning rate (0.01 instead of 0.05)
    "lr": ({**CNN, "training.lr": 0.01}, _fusefl((2,), ("conv1x1", "avg")), (0.1,), (10,),
           True),
    "probe": (CNN, [{"blocks": 2, "adaptor": "conv1x1", "ccvr_formula": "official"},
                    {"blocks": 2, "adaptor": "conv1x1", "local_epochs": 2}],
              (0.1, 0.3, 0.5), (5,), False),
}


def variant_label(params: dict[str, Any]) -> str:
    """Return ``K|adaptor|extra`` of a FuseFL variant (extra: the non-default options)."""
    extra = ",".join(f"{k}={v}" for k, v in params.items() if k not in ("blocks", "adaptor"))
    return f"{params['blocks']}|{params['adaptor']}|{extra}"


def jobs_of(part: str, seeds: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """Return ``(label, scenario data)`` of every run of one part of the study."""
    world, variants, alphas, ms, baselines = PARTS[part]
    base = load_scenario(BASE)
    jobs = []
    for alpha, m, seed in itertools.product(alphas, ms, seeds):
        values = {**world, "partition.num_clients": m, "seed": seed, "name": f"study_{part}"}
        if alpha:
            values["partition.alpha"] = alpha
        scenario = with_values(base, values)
        head = f"{part}|{alpha}|{m}|{seed}"
        for params in variants:
            s = with_algorithm(scenario, "fusefl", **params)
            jobs.append((f"{head}|fusefl|{variant_label(params)}", s.model_dump(mode="json")))
        for name in BASELINES if baselines else ():
            jobs.append((f"{head}|{name}|||", with_algorithm(scenario, name)
                         .model_dump(mode="json")))
    return jobs


def table_of(results: list[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return one row per run (labels split into columns) and all metrics."""
    rows, frames = [], []
    for res in results:
        part, alpha, m, seed, method, k, adaptor, extra = res.label.split("|")
        s = res.summary
        metrics = res.metrics
        raw = metrics[(metrics["node"] == "fused_uncalibrated")
                      & (metrics["metric"] == "accuracy")]["value"]
        rows.append({"part": part, "alpha": float(alpha), "M": int(m), "seed": int(seed),
                     "method": method, "K": int(k) if k else None, "adaptor": adaptor or None,
                     "variant": extra or None,
                     "accuracy": s["final_metrics"]["accuracy"],
                     "uncalibrated": float(raw.iloc[-1]) if len(raw) else None,
                     "bytes_moved": s["bytes_moved"],
                     "bytes_up": s["bytes_by_link"].get("device_cloud_up", 0),
                     "simulated_time_s": s["simulated_time_s"], "wall_time_s": s["wall_time_s"],
                     "model_parameters": s["num_parameters"]})
        frames.append(metrics.assign(run=res.label))
    return pd.DataFrame(rows), pd.concat(frames, ignore_index=True)


def run(out: Path, parts: list[str], seeds: list[int], workers: int) -> None:
    """Run the parts and write ``<part>.csv`` and ``<part>.metrics.parquet`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for part in parts:
        jobs = jobs_of(part, seeds)
        t0 = time.perf_counter()
        results = run_jobs(jobs, executor="local", workers=workers, progress=True)
        table, metrics = table_of(results)
        table.to_csv(out / f"{part}.csv", index=False)
        metrics.to_parquet(out / f"{part}.metrics.parquet", index=False)
        print(f"{part}: {len(jobs)} runs in {time.perf_counter() - t0:.0f} s wall")


def model_sizes(part: str, m: int, k: int, adaptor: str) -> dict[str, float]:
    """Return the fused model's parameters relative to one full model, a client's upload of
    blocks and classifier (bytes) and its CCVR statistics upload (bytes)."""
    from simfl.learning.blocks import block_stats, scaled_hidden, split_blocks, state_bytes
    from simfl.learning.fused import first_stage, fuse, fused_model, next_stage
    from simfl.learning.models import build_model

    world = PARTS[part][0]
    kind, hidden = world["model.kind"], tuple(world["model.hidden"])
    shape = (60,) if part == "synthetic" else ((64,) if kind == "mlp" else (1, 8, 8))
    one = sum(p.numel() for p in build_model(kind, shape, 10, hidden=hidden, seed=0)
              .parameters())
    blocks = split_blocks(kind, shape, 10, num_blocks=k, hidden=scaled_hidden(hidden, m),
                          seed=0)
    stages = [first_stage(blocks, num_clients=m, adaptor=adaptor)]
    fused, upload = [], 0
    for stage_k in range(1, k + 1):
        upload += state_bytes(stages[-1].upload())
        fused.append(fuse([stages[-1].upload()] * m))
        if stage_k < k:
            stages.append(next_stage(stages[-1], fused[-1], seed=0))
    final = fused_model(fused, [stages[-1].head.classifier] * m)
    d = block_stats(blocks, shape)[-1].num_parameters // 10 - 1
    return {"fused_vs_one": sum(p.numel() for p in final.parameters()) / one,
            "upload_bytes": upload + state_bytes(blocks.classifier),
            "stats_bytes": 10 * (1 + d + d * (d + 1) // 2) * 4}


def load(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return every part's results (with ``run`` labels and ``diverged``: the final global
    loss is not finite) and metrics found in ``out``."""
    table = pd.concat([pd.read_csv(p) for p in sorted(out.glob("*.csv"))], ignore_index=True)
    metrics = pd.concat([pd.read_parquet(p) for p in sorted(out.glob("*.metrics.parquet"))],
                        ignore_index=True)
    for col in ("adaptor", "variant"):
        table[col] = table[col].fillna("")
    table["run"] = [f"{r.part}|{r.alpha}|{r.M}|{r.seed}|{r.method}|"
                    f"{'' if pd.isna(r.K) else int(r.K)}|{r.adaptor}|{r.variant}"
                    for r in table.itertuples()]
    loss = metrics[(metrics["node"] == "global") & (metrics["metric"] == "loss")]
    last = loss.sort_values("t_s", kind="stable").groupby("run")["value"].agg(
        lambda v: v.iloc[-1])  # GroupBy.last would skip a NaN
    table["diverged"] = ~table["run"].map(last).apply(lambda v: bool(pd.notna(v)
                                                                      and abs(v) < 1e30))
    return table, metrics


def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}" if len(values) > 1 else (
        f"{values.mean():.3f}")


def report(out: Path, figures: Path) -> None:
    """Print the study's tables (markdown) and draw its figures into ``figures``."""
    from simfl.analysis.frames import metric_with_bytes
    from simfl.analysis.study_figures import plot_metric_vs_cost

    table, metrics = load(out)
    main = table[table["variant"] == ""]
    fuse = main[main["method"] == "fusefl"]
    ok = fuse[~fuse["diverged"]]
    print("## accuracy per world (mean ± std over seeds; FuseFL: its best K and adaptor, "
          "diverged runs left out and counted)")
    print("| part | alpha | M | seeds | FuseFL (K, adaptor) | diverged | FuseFL uncal. | "
          "one-shot FedAvg | FedDF | Ensemble | FedAvg (50 rounds) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (part, alpha, m), g in main.groupby(["part", "alpha", "M"], sort=False):
        by = {name: g[g["method"] == name] for name in ("fusefl", *BASELINES)}
        good = ok[(ok["part"] == part) & (ok["alpha"] == alpha) & (ok["M"] == m)]
        means = good.groupby(["K", "adaptor"])["accuracy"].mean()
        k, adaptor = means.idxmax() if len(means) else (0, "")
        best = good[(good["K"] == k) & (good["adaptor"] == adaptor)]
        cells = [f"{_mean_std(best['accuracy'])} ({int(k)}, {adaptor})",
                 f"{int(by['fusefl']['diverged'].sum())}/{len(by['fusefl'])}",
                 _mean_std(best["uncalibrated"])]
        cells += [_mean_std(by[name]["accuracy"]) for name in BASELINES]
        print(f"| {part} | {alpha:g} | {m} | {g['seed'].nunique()} | " + " | ".join(cells)
              + " |")
    print("\n## FuseFL across K and adaptors (mean over worlds and seeds, diverged runs left "
          "out)")
    print("| part | K | adaptor | accuracy | uncalibrated | diverged | fused params / one "
          "model (M=5) | client upload (blocks) B | statistics upload B (M=5) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (part, k, adaptor), g in fuse.groupby(["part", "K", "adaptor"], sort=False):
        sizes = model_sizes(part.removesuffix("_lr"), 5, int(k), adaptor)
        good = g[~g["diverged"]]
        print(f"| {part} | {int(k)} | {adaptor} | {good['accuracy'].mean():.3f} | "
              f"{good['uncalibrated'].mean():.3f} | {int(g['diverged'].sum())}/{len(g)} | "
              f"{sizes['fused_vs_one']:.2f} | "
              f"{sizes['upload_bytes']:,} | {sizes['stats_bytes']:,} |")
    print("\n## bytes and simulated time (mean over worlds and seeds)")
    print("| part | method | bytes moved | uploads | simulated time s | wall time s |")
    print("|---|---|---|---|---|---|")
    for (part, method), g in main.groupby(["part", "method"], sort=False):
        print(f"| {part} | {method} | {g['bytes_moved'].mean():,.0f} | "
              f"{g['bytes_up'].mean():,.0f} | {g['simulated_time_s'].mean():,.0f} | "
              f"{g['wall_time_s'].mean():.1f} |")
    print("\n## FedAvg to match FuseFL (per world and seed: FuseFL's best K and adaptor; FedAvg's "
          "first evaluation at or above its accuracy)")
    print("| part | worlds x seeds | FedAvg matched | FedAvg bytes / FuseFL bytes | "
          "FedAvg time / FuseFL time |")
    print("|---|---|---|---|---|")
    ok = ok.assign(world=ok["run"].str.rsplit("|", n=4).str[0])
    for part, g in ok.groupby("part", sort=False):
        ratios = []
        worlds = g.groupby("world")
        for world, runs in worlds:
            means = runs.groupby(["K", "adaptor"])["accuracy"].mean()
            best = runs.set_index(["K", "adaptor"]).loc[means.idxmax()]
            curve = metric_with_bytes(metrics[metrics["run"] == f"{world}|fedavg|||"])
            hit = curve[curve["value"] >= float(best["accuracy"])]
            if len(hit):
                ratios.append((hit["bytes_moved"].iloc[0] / best["bytes_moved"],
                               hit["t_s"].iloc[0] / best["simulated_time_s"]))
        if ratios:
            b, t = zip(*ratios, strict=True)
            print(f"| {part} | {len(worlds)} | {len(ratios)} | {min(b):.0f}-{max(b):.0f}x | "
                  f"{min(t):.1f}-{max(t):.1f}x |")
        else:
            print(f"| {part} | {len(worlds)} | 0 | - | - |")
    print("\n## variants")
    fuse = fuse[~fuse["diverged"]]
    for (part, variant), g in table[table["variant"] != ""].groupby(["part", "variant"]):
        ref = fuse[(fuse["part"] == ("resnet" if part == "official" else "cnn"))
                   & (fuse["K"] == 2) & (fuse["adaptor"] == "conv1x1")
                   & fuse["alpha"].isin(g["alpha"]) & fuse["M"].isin(g["M"])
                   & fuse["seed"].isin(g["seed"])]
        print(f"{part} {variant}: accuracy {g['accuracy'].mean():.3f} (uncalibrated "
              f"{g['uncalibrated'].mean():.3f}; the default on the same worlds "
              f"{ref['accuracy'].mean():.3f}, uncalibrated {ref['uncalibrated'].mean():.3f}) "
              f"over {len(g)} runs")
    print(f"\nwall time: {table['wall_time_s'].sum() / 60:.1f} min in runs; by part: " + ", ".join(
        f"{p} {w / 60:.1f} min" for p, w in table.groupby("part")["wall_time_s"].sum().items()))
    for part, alpha, m, adaptor in (("cnn", 0.3, 5, "conv1x1"), ("mlp", 0.3, 5, "linear")):
        head = f"{part}|{alpha}|{m}|0|"
        frames = {}
        for name in ("fusefl", *BASELINES):
            run = (f"{head}fusefl|2|{adaptor}|" if name == "fusefl" else f"{head}{name}|||")
            frames[name] = metrics[metrics["run"] == run]
        plot_metric_vs_cost(frames, path=figures / f"fusefl_{part}_accuracy_vs_bytes.png",
                            title=f"digits {part}, Dirichlet {alpha}, M = {m}, seed 0: "
                                  "accuracy vs bytes moved and simulated time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parts", default="cnn,mlp,synthetic,resnet,official,probe")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--report", type=Path, default=None,
                        help="read the results in --out, print tables, draw figures here")
    args = parser.parse_args()
    if args.report is not None:
        report(args.out, args.report)
        return
    run(args.out, args.parts.split(","), [int(s) for s in args.seeds.split(",")], args.workers)


if __name__ == "__main__":
    main()
