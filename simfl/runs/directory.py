"""The run directory: scenario.yaml, trace.parquet, metrics.csv, summary.json, figures/.

Every file is written atomically; ``summary.json`` is written last, so a run directory is
complete exactly when it has one (a killed run leaves no summary).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from simfl.analysis.figures import plot_metric_vs_time
from simfl.analysis.timeline import plot_node_timeline
from simfl.atomic import atomic_path, write_json, write_text
from simfl.runs.runner import RunResult


def default_run_dir(root: Path, name: str) -> Path:
    """Return ``root/<name>-<UTC timestamp>`` (suffixed ``-2``, ``-3``... if it exists)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = root / f"{name}-{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = Path(f"{base}-{k}")
    return path


def write_run_directory(result: RunResult, run_dir: Path) -> Path:
    """Write ``result`` into ``run_dir`` (created if needed) and return the directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = result.scenario.model_dump(mode="json")
    write_text(run_dir / "scenario.yaml",
               "# resolved scenario: overrides applied, defaults filled in\n"
               + yaml.safe_dump(resolved, sort_keys=False))
    with atomic_path(run_dir / "trace.parquet") as tmp:
        result.trace.to_parquet(tmp, index=False)
    with atomic_path(run_dir / "metrics.csv") as tmp:
        result.metrics.to_csv(tmp, index=False)
    if result.scenario.output.figures:
        write_figures(run_dir / "figures", result.trace, result.metrics, result.scenario.name)
    write_json(run_dir / "summary.json", result.summary)
    return run_dir


def write_figures(
    figures_dir: Path,
    trace: pd.DataFrame,
    metrics: pd.DataFrame,
    name: str,
    *,
    metric: str | None = None,
    nodes: list[str] | None = None,
    t_range_s: tuple[float, float] | None = None,
    max_nodes: int = 40,
) -> list[Path]:
    """Draw a run's figures into ``figures_dir``; return their paths.

    ``<metric>_vs_time.png`` (default: accuracy, else rmse) for ``nodes`` (default: the
    global model) and ``timeline.png``, optionally zoomed to ``t_range_s``.
    """
    if metric is None:
        metric = "accuracy" if "accuracy" in set(metrics["metric"]) else "rmse"
    metric_path = figures_dir / f"{metric}_vs_time.png"
    plot_metric_vs_time(metrics, metric=metric, nodes=nodes, path=metric_path,
                        title=f"{name}: test {metric} vs simulated time")
    timeline_path = figures_dir / "timeline.png"
    plot_node_timeline(trace, path=timeline_path, t_range_s=t_range_s, max_nodes=max_nodes)
    return [metric_path, timeline_path]
