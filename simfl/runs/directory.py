"""The run directory: scenario.yaml, trace.parquet, metrics.csv, summary.json, figures/.

A run is written into a temporary sibling folder that is renamed into place when complete,
so a run directory is never half-written nor a mix of two runs; ``summary.json`` is written
last. Writers lock the directory (:func:`run_dir_lock`), so two runs never share it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from simfl.analysis.figures import plot_metric_vs_time
from simfl.analysis.timeline import plot_node_timeline
from simfl.atomic import atomic_path, folder_problem, write_json, write_text
from simfl.errors import SimflError
from simfl.runs.runner import RunResult

RUN_FILES = ("scenario.yaml", "trace.parquet", "metrics.csv", "summary.json", "figures")
"""What a run directory holds; ``--overwrite`` replaces only folders holding nothing else."""


def default_run_dir(root: Path, name: str) -> Path:
    """Return ``root/<name>-<UTC timestamp>`` (suffixed ``-2``, ``-3``... if it is taken).

    A name is taken if the folder exists or another run is writing it (holds its lock).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = root / f"{name}-{stamp}"
    path, k = base, 1
    while path.exists() or _lock_path(path).exists():
        k += 1
        path = Path(f"{base}-{k}")
    return path


def check_run_dir(run_dir: Path, overwrite: bool = False) -> None:
    """Raise SimflError unless a run can be written to ``run_dir``.

    It must be new, an empty folder, or (with ``overwrite``) a previous run directory, and
    its parent must be a writable folder.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise SimflError(f"{run_dir}: exists and is not a folder; give a new folder path")
    if run_dir.is_dir():
        entries = sorted(p.name for p in run_dir.iterdir())
        foreign = [e for e in entries if e not in RUN_FILES]
        if entries and not overwrite:
            raise SimflError(f"{run_dir}: already holds files ({', '.join(entries[:5])}); give "
                             "a new folder, or --overwrite to replace a previous run (it is "
                             "replaced only once the new run is complete)")
        if foreign:
            raise SimflError(f"{run_dir}: holds files that no run wrote ("
                             f"{', '.join(foreign[:5])}), so it is not replaced; give a new "
                             "folder")
    problem = folder_problem(run_dir.parent)
    if problem is not None:
        raise SimflError(f"{run_dir}: its folder {run_dir.parent} {problem}")


def _lock_path(run_dir: Path) -> Path:
    return run_dir.parent / f".{run_dir.name}.lock"


@contextlib.contextmanager
def run_dir_lock(run_dir: Path) -> Iterator[Path]:
    """Hold an exclusive lock on ``run_dir`` while a run is written there; yield the lock file.

    The lock is ``.<name>.lock`` beside the folder, held with ``flock`` (released by the
    system even if the process is killed) and removed on exit.

    Raises
    ------
    SimflError
        If another process holds the lock.
    """
    lock = _lock_path(run_dir)
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SimflError(f"{run_dir}: another simfl run is writing there (it holds {lock});"
                             " wait for it to finish or give another folder") from None
        try:  # the last holder may have removed the file between our open and our lock
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def write_run_directory(result: RunResult, run_dir: Path, *, overwrite: bool = False) -> Path:
    """Write ``result`` into ``run_dir`` whole and return the directory.

    The files are written into a temporary sibling folder that is renamed to ``run_dir``
    once complete, so ``run_dir`` never mixes two runs or holds half of one. With
    ``overwrite``, a previous run directory there is replaced (after the new one is
    complete); otherwise ``run_dir`` must be new or empty (see :func:`check_run_dir`).
    """
    run_dir = Path(run_dir)
    check_run_dir(run_dir, overwrite)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_sibling(run_dir, "partial")
    try:
        _write_files(result, staging)
        _move_into_place(staging, run_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return run_dir


def _write_files(result: RunResult, run_dir: Path) -> None:
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


def _move_into_place(staging: Path, run_dir: Path) -> None:
    """Rename ``staging`` to ``run_dir``; a previous ``run_dir`` goes only after that."""
    if run_dir.is_dir() and any(run_dir.iterdir()):
        old = _new_sibling(run_dir, "old")
        os.replace(run_dir, old)  # an empty folder is replaced
        os.replace(staging, run_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, run_dir)


def _new_sibling(run_dir: Path, kind: str) -> Path:
    """Create and return a new, empty, hidden folder beside ``run_dir`` (mode as mkdir's)."""
    while True:
        path = run_dir.parent / f".{run_dir.name}.{secrets.token_hex(4)}.{kind}"
        try:
            path.mkdir()
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        return path


def read_run_tables(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Return a run directory's trace, metrics and scenario name, checked.

    Raises
    ------
    SimflError
        One line per unreadable or incomplete file (missing, cut short, other columns).
    """
    from simfl.engine.metrics import METRIC_COLUMNS, METRIC_DTYPES
    from simfl.engine.trace import TRACE_COLUMNS

    needed = [run_dir / "trace.parquet", run_dir / "metrics.csv"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise SimflError(f"{run_dir}: not a run directory (missing {', '.join(missing)}); "
                         "give a directory written by 'simfl run'")
    problems: list[str] = []
    frames: list[pd.DataFrame] = []
    for path, columns, read in (
        (needed[0], TRACE_COLUMNS, pd.read_parquet),
        (needed[1], METRIC_COLUMNS, pd.read_csv),
    ):
        try:
            frame = read(path)
        except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
            problems.append(f"{path}: cannot be read ({' '.join(str(exc).split())[:200]}); "
                            "the file is damaged or cut short: run the scenario again")
            continue
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            problems.append(f"{path}: lacks the column(s) {', '.join(absent)} (it has "
                            f"{', '.join(map(str, frame.columns)) or 'none'}); it was not "
                            "written by 'simfl run' or was edited: run the scenario again")
        elif columns is METRIC_COLUMNS:
            try:
                frame = frame.astype(METRIC_DTYPES)
            except (ValueError, TypeError) as exc:
                problems.append(f"{path}: holds a value of the wrong type ({exc}); it was "
                                "edited or damaged: run the scenario again")
        frames.append(frame)
    if problems:
        raise SimflError(problems)
    name = run_dir.name
    try:
        resolved = yaml.safe_load((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
        name = str(resolved.get("name", name)) if isinstance(resolved, dict) else name
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass  # the name is only a title
    return frames[0], frames[1], name


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
    global model) and ``timeline.png``; zoomed to ``t_range_s``, the timeline is written to
    ``timeline_<start>-<end>s.png`` instead, so the run's full timeline stays.
    """
    if metric is None:
        metric = "accuracy" if "accuracy" in set(metrics["metric"]) else "rmse"
    metric_path = figures_dir / f"{metric}_vs_time.png"
    plot_metric_vs_time(metrics, metric=metric, nodes=nodes, path=metric_path,
                        title=f"{name}: test {metric} vs simulated time")
    timeline_path = figures_dir / ("timeline.png" if t_range_s is None else
                                   f"timeline_{t_range_s[0]:g}-{t_range_s[1]:g}s.png")
    plot_node_timeline(trace, path=timeline_path, t_range_s=t_range_s, max_nodes=max_nodes)
    return [metric_path, timeline_path]
