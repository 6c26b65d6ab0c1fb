"""Sweeps: a grid of scenario variants, run by an executor, gathered into tidy tables.

A sweep directory holds ``results.csv`` (one row per run: the swept values, final metrics,
simulated time, bytes by link), ``metrics.parquet`` (every run's metrics with a ``run``
column) and figures. Like a run directory it is complete when it has its marker file,
written last: ``sweep.json``, ``compare.json`` or ``tune.json``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simfl.errors import SimflError
from simfl.scenario.schema import Scenario
from simfl.scenario.source import yaml_value
from simfl.studies.executors import ExecutorName, JobResult, run_jobs
from simfl.studies.store import RunStore, variant_key
from simfl.studies.variants import with_algorithm, with_values


def parse_set(spec: str) -> tuple[str, list[Any]]:
    """Return ``(path, values)`` of a ``--set a.b=v1,v2,v3`` sweep axis (values as YAML)."""
    key, sep, raw = spec.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise SimflError(f"--set {spec!r}: write it as a.b.c=v1,v2,... e.g. "
                         "algorithm.mixing_ratio=0,0.5,1")
    values = [yaml_value(v, f"--set {spec!r}, value") for v in raw.split(",")]
    return key.strip(), values


def grid(
    scenario: Scenario, axes: Mapping[str, Sequence[Any]], algorithms: Sequence[str] = ()
) -> list[tuple[dict[str, Any], Scenario]]:
    """Return every combination of ``axes`` (and ``algorithms``) as (values, scenario) pairs.

    ``algorithm.name`` in the axes is handled like ``algorithms`` (shared settings kept).
    """
    axes = dict(axes)
    names = list(algorithms) or [str(v) for v in axes.pop("algorithm.name", [])]
    points: list[tuple[dict[str, Any], Scenario]] = []
    choices: list[str | None] = list(names) if names else [None]
    for name in choices:
        base = with_algorithm(scenario, name) if name else scenario
        keys = list(axes)
        for combo in itertools.product(*(axes[k] for k in keys)):
            values = dict(zip(keys, combo, strict=True))
            variant = with_values(base, values) if values else base
            label_values = ({"algorithm": name} if name else {}) | values
            points.append((label_values, variant))
    return points


def label_of(values: Mapping[str, Any]) -> str:
    """Return a short run label such as ``algorithm=fedmeld,mixing_ratio=0.5``."""
    return ",".join(f"{k.split('.')[-1]}={v}" for k, v in values.items()) or "base"


def run_sweep(
    points: Sequence[tuple[dict[str, Any], Scenario]],
    *,
    executor: ExecutorName = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    store: RunStore | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every point; return (results: one row per run, metrics: all runs, tidy).

    With a ``store``, each run is stored as it finishes, and points already stored there
    (the same resolved scenario) are read instead of run: a study resumes where it stopped.
    ``results.attrs["summaries"]`` maps each run label to its full summary.
    """
    jobs = [(label_of(v), s.model_dump(mode="json")) for v, s in points]
    keys = [variant_key(data) for _, data in jobs]
    found = {k: store.load(key) for k, key in enumerate(keys)} if store is not None else {}
    stored = {k: r for k, r in found.items() if r is not None}
    missing = [k for k in range(len(jobs)) if k not in stored]

    def keep(index: int, result: JobResult) -> None:
        if store is not None:
            store.save(keys[missing[index]], result)

    fresh = run_jobs([jobs[k] for k in missing], executor=executor, workers=workers,
                     address=address, progress=progress, on_result=keep)
    stored.update(zip(missing, fresh, strict=True))
    results = [stored[k] for k in range(len(jobs))]
    table = results_table(points, results)
    table.attrs["summaries"] = {r.label: r.summary for r in results}
    return table, metrics_table(results)


def results_table(points: Sequence[tuple[dict[str, Any], Scenario]],
                  results: Sequence[JobResult]) -> pd.DataFrame:
    """Return one row per run: swept values, final and best metrics, time to targets, bytes.

    Columns: ``final_<metric>`` and ``best_<metric>`` (the headline node), the same with
    ``personalized_`` for algorithms with personal models, ``time_to_<metric>_<value>_s``
    (and ``time_to_personalized_...``) for each of ``output.metric_targets`` (empty when
    never reached), simulated and wall time, bytes moved in all and by link.
    """
    rows = []
    for (values, _), res in zip(points, results, strict=True):
        s = res.summary
        row: dict[str, Any] = {"run": res.label, **values}
        row.update(_metric_columns("", s["final_metrics"]))
        row.update(_metric_columns("personalized_", s.get("final_personalized_metrics", {})))
        for key, prefix in (("time_to_target_s", ""),
                            ("time_to_personalized_target_s", "personalized_")):
            for label, t_s in s.get(key, {}).items():
                row[f"time_to_{prefix}{target_column(label)}_s"] = t_s
        row["simulated_time_s"] = s["simulated_time_s"]
        row["wall_time_s"] = s["wall_time_s"]
        row["bytes_moved"] = s["bytes_moved"]
        row.update({f"bytes_{k}": v for k, v in s["bytes_by_link"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _metric_columns(prefix: str, metrics: Mapping[str, float]) -> dict[str, float]:
    """Return ``final_<prefix><m>`` and ``best_<prefix><m>`` columns of a summary's metrics."""
    out = {}
    for key, value in metrics.items():
        if key.startswith("best_"):
            out[f"best_{prefix}{key.removeprefix('best_')}"] = value
        else:
            out[f"final_{prefix}{key}"] = value
    return out


def target_column(label: str) -> str:
    """Return a target label as a column-name piece: ``accuracy>=0.9`` -> ``accuracy_0.9``."""
    metric, _, value = label.replace("<=", ">=").partition(">=")
    return f"{metric}_{value}"


def metrics_table(results: Sequence[JobResult]) -> pd.DataFrame:
    """Return all runs' metrics with a ``run`` column."""
    frames = [r.metrics.assign(run=r.label) for r in results]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_sweep(out_dir: Path, results: pd.DataFrame, metrics: pd.DataFrame,
                meta: Mapping[str, Any], study: str = "sweep") -> Path:
    """Write results.csv, metrics.parquet and ``<study>.json`` (last) into ``out_dir``.

    ``study`` names the kind of study (``sweep``, ``compare`` or ``tune``).
    """
    from simfl.atomic import atomic_path, write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "results.csv") as tmp:
        results.to_csv(tmp, index=False)
    with atomic_path(out_dir / "metrics.parquet") as tmp:
        metrics.to_parquet(tmp, index=False)
    write_json(out_dir / f"{study}.json", dict(meta))
    return out_dir
