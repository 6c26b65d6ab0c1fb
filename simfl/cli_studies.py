"""The study commands of the ``simfl`` CLI: ``sweep``, ``compare`` and ``tune``."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simfl.errors import SimflError

if TYPE_CHECKING:
    import pandas as pd

    from simfl.scenario.schema import Scenario


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="scenario YAML file")
    p.add_argument("-o", "--override", action="append", default=[], metavar="A.B.C=VALUE",
                   help="override a scenario value before the study (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="replace the scenario's seed")
    p.add_argument("--out", type=Path, default=None,
                   help="study directory (default: runs/<name>-<study>-<UTC time>)")
    p.add_argument("--executor", choices=("serial", "local", "ray"), default="local",
                   help="where runs execute: here, local processes, or a Ray cluster")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel runs (default: cores)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the study in DIR: runs already stored there are reused, "
                        "only the missing ones run (give the same scenario and options)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a previous study in --out (its files are removed before "
                        "the new study starts; a folder holding other files is never used)")
    p.add_argument("--target", action="append", default=[], metavar="METRIC=V1,V2",
                   help="time each run to these metric targets, e.g. --target accuracy=0.9 "
                        "(adds output.metric_targets; draws latency vs final metric)")


def positive_int(text: str) -> int:
    """Return ``text`` as a whole number >= 1 (argparse reports the error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value


def _study_dir(args: argparse.Namespace, name: str, study: str) -> Path:
    if args.resume is not None:
        if args.overwrite:
            raise SimflError("--resume continues the study in DIR and --overwrite replaces "
                             "one; give only one of them")
        if args.out is not None and Path(args.out) != Path(args.resume):
            raise SimflError("--resume DIR continues the study in DIR: give no other --out")
        if not (Path(args.resume) / "runs").is_dir():
            raise SimflError(f"--resume {args.resume}: no stored runs there (a study stores "
                             "each run in DIR/runs as it finishes); check the path")
        return Path(args.resume)
    if args.out is not None:
        out = Path(args.out)
        check_study_dir(out, args.overwrite)
        if args.overwrite and out.is_dir():
            clear_study_dir(out)
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{name}-{study}-{stamp}"


STUDY_FILES = ("compare.json", "sweep.json", "tune.json", "results.csv", "metrics.parquet",
               "figures", "runs", "zone_runs.json", "zone_table.csv", "zone_algorithms.csv")
"""What a study directory holds; ``--overwrite`` replaces only folders holding nothing else."""

_STORED_RUN = re.compile(r"[0-9a-f]{24}(\.json|\.metrics\.parquet)")
#: A temporary file an interrupted atomic write left (see :mod:`simfl.atomic`).
_PARTIAL = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.partial(\.\w+)?")


def _study_file(name: str, allowed: re.Pattern[str] | tuple[str, ...]) -> bool:
    partial = _PARTIAL.fullmatch(name)
    if partial is not None:
        name = partial["name"]
    return (allowed.fullmatch(name) is not None if isinstance(allowed, re.Pattern)
            else name in allowed)


def check_study_dir(out: Path, overwrite: bool) -> None:
    """Raise SimflError unless a new study may be written to ``out``.

    It must be new, an empty folder, or (with ``overwrite``) a previous study directory:
    only study files, a ``runs`` folder of stored runs only, and not the working folder or
    one above it. A study never mixes its runs and tables into another's, and never
    removes files it did not write.
    """
    if out.exists() and not out.is_dir():
        raise SimflError(f"--out {out}: exists and is not a folder; give a new folder path")
    entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if not entries:
        return
    foreign = [e for e in entries if not _study_file(e, STUDY_FILES)]
    runs = out / "runs"
    if runs.is_dir():
        foreign += [f"runs/{p.name}" for p in sorted(runs.iterdir())
                    if not _study_file(p.name, _STORED_RUN)]
    elif runs.exists():
        foreign.append("runs")
    figures = out / "figures"
    if figures.is_dir():
        foreign += [f"figures/{p.name}" for p in sorted(figures.iterdir())
                    if p.suffix != ".png" or not p.is_file()]
    if Path.cwd().resolve().is_relative_to(out.resolve()):
        foreign.insert(0, "the working folder itself")
    if foreign:
        raise SimflError(f"--out {out}: holds files that no study wrote ("
                         f"{', '.join(foreign[:5])}), so it is not used; give a new folder")
    if not overwrite:
        raise SimflError(f"--out {out}: already holds a study ({', '.join(entries[:5])}); "
                         f"give a new folder, --resume {out} to continue that study, or "
                         "--overwrite to replace it")


def clear_study_dir(out: Path) -> None:
    """Remove a previous study's files from ``out`` (checked by :func:`check_study_dir`)."""
    import shutil

    for path in out.iterdir():
        if not _study_file(path.name, STUDY_FILES):  # pragma: no cover - checked before
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def print_run_warnings(results: pd.DataFrame) -> None:
    """Print the runs' warnings on stderr: once if every run has it (the scenario's own),
    else prefixed with the run (a variant that diverged, a region that saw no satellite)."""
    import sys

    summaries: dict[str, dict[str, Any]] = results.attrs.get("summaries", {})
    per_run = {run: list(s.get("warnings", [])) for run, s in summaries.items()}
    if not per_run:
        return
    common = set.intersection(*(set(w) for w in per_run.values()))
    for warning in next(iter(per_run.values())):
        if warning in common:
            print(f"warning: {warning}", file=sys.stderr)
    for run, warnings in per_run.items():
        for warning in warnings:
            if warning not in common:
                print(f"warning: {run}: {warning}", file=sys.stderr)


def _load(args: argparse.Namespace) -> Scenario:
    from simfl.scenario.load import load_scenario
    from simfl.studies.variants import with_values

    scenario = load_scenario(args.file, args.override, args.seed)
    targets = dict(parse_target(t) for t in getattr(args, "target", []) or [])
    if targets:
        merged: dict[str, list[float]] = {str(k): v for k, v in
                                          scenario.output.metric_targets.items()}
        merged.update(targets)
        scenario = with_values(scenario, {"output.metric_targets": merged})
    return scenario


def parse_target(spec: str) -> tuple[str, list[float]]:
    """Return ``(metric, values)`` of a ``--target accuracy=0.8,0.9`` option."""
    metric, sep, raw = spec.partition("=")
    try:
        values = [float(v) for v in raw.split(",")] if sep and raw.strip() else []
    except ValueError:
        values = []
    if metric.strip() not in ("accuracy", "rmse", "loss") or not values:
        raise SimflError(f"--target {spec!r}: write METRIC=V1,V2 with METRIC one of "
                         "accuracy, rmse, loss, e.g. --target accuracy=0.8,0.9")
    return metric.strip(), values


def _latency_figure(results: pd.DataFrame, label: str, out: Path) -> None:
    """Draw latency vs final metric for the first target in ``results`` (if any)."""
    from simfl.analysis.study_figures import plot_latency_vs_metric

    times = [c for c in results.columns
             if c.startswith("time_to_") and not c.startswith("time_to_personalized_")]
    if not times:
        return
    metric = times[0].removeprefix("time_to_").rsplit("_", 2)[0]
    if f"final_{metric}" in results.columns:
        plot_latency_vs_metric(results, times[0], f"final_{metric}", label=label,
                               path=out / "figures" / "latency_vs_metric.png")

def _personalized_figure(frames: dict[str, pd.DataFrame], metric: str, out: Path,
                         title: str) -> None:
    """Draw node ``personalized`` vs simulated time for the runs that record it (if any)."""
    from simfl.analysis.figures import plot_methods_vs_time

    kept = {k: f for k, f in frames.items() if (f["node"] == "personalized").any()}
    if kept:
        plot_methods_vs_time(kept, metric, node="personalized", title=title,
                             path=out / "figures" / f"personalized_{metric}_vs_time.png")


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of overrides and write results.csv, metrics.parquet, figures."""
    from simfl.analysis.figures import plot_methods_vs_time
    from simfl.analysis.study_figures import plot_surface
    from simfl.studies.store import RunStore
    from simfl.studies.sweep import grid, parse_set, run_sweep, write_sweep

    scenario = _load(args)
    axes = dict(parse_set(s) for s in args.set)
    if not axes:
        raise SimflError("sweep needs at least one --set a.b.c=v1,v2,... axis")
    points = grid(scenario, axes)
    out = _study_dir(args, scenario.name, "sweep")
    results, metrics = run_sweep(points, executor=args.executor, workers=args.workers,
                                 store=RunStore(out),
                                 address=args.address, progress=not args.quiet)
    print_run_warnings(results)
    metric = "accuracy" if "final_accuracy" in results.columns else "rmse"
    frames = {run: metrics[metrics["run"] == run] for run in results["run"]}
    plot_methods_vs_time(frames, metric, path=out / "figures" / f"{metric}_vs_time.png")
    _personalized_figure(frames, metric, out, f"{scenario.name}: personalized {metric}")
    keys = [k for k in axes if k != "algorithm.name"]
    if len(keys) == 2:
        plot_surface(results, keys[0], keys[1], f"final_{metric}",
                     path=out / "figures" / "surface.png",
                     title=f"{scenario.name}: final {metric}")
    _latency_figure(results, "run", out)
    write_sweep(out, results, metrics, {"scenario": scenario.name, "axes": axes,
                                        "runs": len(results)})
    shown = [c for c in results.columns if not c.startswith("bytes_") or c == "bytes_moved"]
    print(results[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"sweep directory: {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the same world with several algorithms; figures of accuracy and bytes."""
    from simfl.analysis.figures import plot_methods_vs_time
    from simfl.analysis.frames import BYTES_NODE
    from simfl.analysis.study_figures import plot_bytes_by_link, plot_metric_vs_cost
    from simfl.studies.store import RunStore
    from simfl.studies.sweep import grid, run_sweep, write_sweep

    scenario = _load(args)
    names = [n.strip() for n in args.algorithms.split(",") if n.strip()]
    if not names:
        raise SimflError(f"--algorithms {args.algorithms!r}: name at least one algorithm, "
                         "comma-separated, e.g. --algorithms fedmeld,isolated,space_hfl")
    points = grid(scenario, {}, algorithms=names)
    out = _study_dir(args, scenario.name, "compare")
    results, metrics = run_sweep(points, executor=args.executor, workers=args.workers,
                                 store=RunStore(out),
                                 address=args.address, progress=not args.quiet)
    print_run_warnings(results)
    metric = "accuracy" if "final_accuracy" in results.columns else "rmse"
    frames = {name: metrics[metrics["run"] == run]
              for name, run in zip(results["algorithm"], results["run"], strict=True)}
    plot_methods_vs_time(frames, metric, path=out / "figures" / f"{metric}_vs_time.png",
                         title=f"{scenario.name}: {metric} of the methods vs simulated time")
    _personalized_figure(frames, metric, out,
                         f"{scenario.name}: personalized {metric} (each device's own model)")
    plot_bytes_by_link(results, label="algorithm", path=out / "figures" / "bytes_by_link.png")
    if ((metrics["node"] == BYTES_NODE) & (metrics["metric"] == "bytes_moved")).any():
        plot_metric_vs_cost(frames, metric, path=out / "figures" / f"{metric}_vs_bytes.png",
                            title=f"{scenario.name}: {metric} vs bytes moved and simulated time")
    _latency_figure(results, "algorithm", out)
    reports = family_reports(names, results, metrics, scenario, out)
    write_sweep(out, results, metrics, {"scenario": scenario.name, "algorithms": names},
                study="compare")
    shown = [c for c in results.columns if c != "run"]
    print(results[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for text in reports:
        print(text)
    print(f"compare directory: {out}")
    return 0


def family_reports(names: list[str], results: pd.DataFrame, metrics: pd.DataFrame,
                   scenario: Scenario, out: Path) -> list[str]:
    """Run each algorithm family's ``compare_report`` once over its runs; return the texts."""
    from simfl.scenario.registry import algorithm_spec

    run_of = dict(zip(results["algorithm"], results["run"], strict=True))
    summaries = results.attrs.get("summaries", {})
    labelled = metrics.assign(algorithm=metrics["run"].map(
        dict(zip(results["run"], results["algorithm"], strict=True))))
    families: dict[object, list[str]] = {}
    for name in names:
        report = getattr(algorithm_spec(name).cls, "compare_report", None)
        if report is not None:
            families.setdefault(getattr(report, "__func__", report), []).append(name)
    texts = []
    for members in families.values():
        runs = [(n, summaries[run_of[n]]) for n in members if run_of.get(n) in summaries]
        cls: Any = algorithm_spec(members[0]).cls
        text = cls.compare_report(runs, scenario, labelled, out)
        if text:
            texts.append(text)
    return texts


def cmd_tune(args: argparse.Namespace) -> int:
    """Pick FedMeld's delta and alpha under a latency budget by simulated runs."""
    from simfl.analysis.study_figures import plot_surface
    from simfl.scenario.units import parse_quantity
    from simfl.studies.store import RunStore
    from simfl.studies.sweep import write_sweep
    from simfl.studies.tune import tune_fedmeld

    scenario = _load(args)
    try:
        t_max_s = parse_quantity(args.t_max, "duration")
    except ValueError as exc:
        raise SimflError(f"--t-max: {exc}") from None
    try:
        deltas = [int(v) for v in args.deltas.split(",")]
        alphas = [float(v) for v in args.alphas.split(",")]
    except ValueError:
        raise SimflError(f"--deltas {args.deltas!r} / --alphas {args.alphas!r}: write whole "
                         "numbers and numbers separated by commas, e.g. --deltas 1,2,4 "
                         "--alphas 0,0.5,1") from None
    out = _study_dir(args, scenario.name, "tune")
    result = tune_fedmeld(scenario, t_max_s, deltas=deltas, alphas=alphas, search=args.search,
                          executor=args.executor, workers=args.workers,
                          progress=not args.quiet, store=RunStore(out))
    plot_surface(result.table, "mixing_ratio", "round_interval", "accuracy",
                 best=(result.alpha, result.delta), path=out / "figures" / "surface.png",
                 title=f"{scenario.name}: accuracy at T_max = {t_max_s / 3600:g} h")
    write_sweep(out, result.table, result.table.iloc[0:0], {
        "scenario": scenario.name, "t_max_s": t_max_s, "search": args.search,
        "best": {"round_interval": result.delta, "mixing_ratio": result.alpha,
                 "accuracy": result.accuracy}, "runs": result.runs}, study="tune")
    print(result.table[["round_interval", "mixing_ratio", "accuracy"]]
          .sort_values(["round_interval", "mixing_ratio"]).to_string(index=False))
    print(f"chosen: round_interval (delta) = {result.delta}, mixing_ratio (alpha) = "
          f"{result.alpha:g}, accuracy {result.accuracy:.4f} at T_max = {t_max_s:g} s "
          f"({result.runs} simulated runs, {args.search} search)")
    print(f"tune directory: {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Add ``sweep``, ``compare`` and ``tune`` to the CLI's subcommands."""
    p = sub.add_parser("sweep", help="run a grid of scenario variants")
    _add_common(p)
    p.add_argument("--set", action="append", default=[], metavar="A.B=V1,V2",
                   help="a sweep axis, e.g. --set algorithm.mixing_ratio=0,0.5,1 (repeatable)")
    p.set_defaults(func=cmd_sweep)

    c = sub.add_parser("compare", help="run the same world with several algorithms")
    _add_common(c)
    c.add_argument("--algorithms", required=True,
                   help="comma-separated, e.g. fedmeld,isolated,space_hfl")
    c.set_defaults(func=cmd_compare)

    t = sub.add_parser("tune", help="pick FedMeld's delta and alpha under a latency budget")
    _add_common(t)
    t.add_argument("--t-max", required=True, help="latency budget, e.g. '12 h'")
    t.add_argument("--deltas", default="1,2,4,8", help="round intervals to try")
    t.add_argument("--alphas", default="0,0.25,0.5,0.75,1", help="mixing ratios to try")
    t.add_argument("--search", choices=("grid", "refine"), default="grid",
                   help="every pair, or a coarse grid refined around the best")
    t.set_defaults(func=cmd_tune)
