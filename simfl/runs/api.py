"""The functions of simfl's front door: load, simulate, write, read back, compare.

Re-exported by :mod:`simfl`; notebooks and scripts use them as ``simfl.load_scenario`` etc.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simfl.errors import SimflError

if TYPE_CHECKING:
    import pandas as pd

    from simfl.runs.runner import RunResult
    from simfl.scenario.schema import Scenario
    from simfl.studies.executors import ExecutorName


def load_scenario(
    path_or_text: str | Path,
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> Scenario:
    """Return the validated scenario in a file, or in YAML text.

    Parameters
    ----------
    path_or_text
        A :class:`~pathlib.Path` or a path string (a scenario file; relative paths inside it
        are read from its folder), or YAML text (anything with a line break or starting
        with ``{``).
    overrides
        ``"a.b.c=value"`` strings applied in order, as ``simfl run -o``.
    seed
        Replaces the scenario's seed.

    Raises
    ------
    ScenarioError
        Listing every problem at once, one line each, with the file and line.
    """
    from simfl.scenario.load import load_scenario as load_file
    from simfl.scenario.load import scenario_from_text

    if isinstance(path_or_text, str) and ("\n" in path_or_text
                                          or path_or_text.lstrip().startswith("{")):
        return scenario_from_text(path_or_text, list(overrides), seed)
    path = Path(path_or_text)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise SimflError(f"{path}: {state}; give a scenario YAML file (e.g. "
                         "scenarios/quickstart.yaml) or the YAML text itself")
    return load_file(path, list(overrides), seed)


def simulate(scenario: Scenario, *, progress: bool = False) -> RunResult:
    """Run ``scenario`` to its end; return its trace, metrics and summary (nothing written)."""
    from simfl.runs.runner import simulate as run

    return run(scenario, progress=progress)


def write_run(result: RunResult, out_dir: str | Path) -> Path:
    """Write ``result`` as a run directory at ``out_dir`` and return its path.

    ``scenario.yaml``, ``trace.parquet``, ``metrics.csv``, figures, then ``summary.json``
    last, each written atomically: the directory is complete when it has a summary.
    """
    from simfl.runs.directory import write_run_directory

    return write_run_directory(result, Path(out_dir))


def read_run(run_dir: str | Path) -> RunResult:
    """Return the run stored in ``run_dir`` (the inverse of :func:`write_run`).

    Raises
    ------
    SimflError
        If the directory is not a complete run directory, or a file in it is unreadable.
    """
    import yaml

    from simfl.runs.directory import read_run_tables
    from simfl.runs.runner import RunResult
    from simfl.scenario.registry import validate_scenario

    root = Path(run_dir)
    files = ("scenario.yaml", "trace.parquet", "metrics.csv", "summary.json")
    missing = [name for name in files if not (root / name).is_file()]
    if missing:
        hint = ("it was not written to the end (a run is complete when it has summary.json)"
                if (root / "scenario.yaml").is_file() else "give a directory written by "
                "'simfl run' or simfl.write_run")
        raise SimflError(f"{root}: not a complete run directory (missing "
                         f"{', '.join(missing)}); {hint}")
    trace, metrics, _name = read_run_tables(root)
    try:
        scenario = validate_scenario(yaml.safe_load((root / "scenario.yaml").read_text()))
        summary = json.loads((root / "summary.json").read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())  # one line (YAML errors span several)
        raise SimflError(f"{root}: cannot read the run directory ({reason}); it may be damaged "
                         "or written by an incompatible simfl version") from None
    return RunResult(scenario=scenario, trace=trace, metrics=metrics, summary=summary)


def compare(
    scenario: Scenario,
    algorithms: Sequence[str],
    *,
    executor: ExecutorName = "serial",
    workers: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run ``scenario`` with each algorithm on the same world and clock; return one tidy frame.

    Columns ``algorithm, t_s, round, node, metric, value``: every metric every run recorded,
    plus, per run, node ``run`` rows at the run's end (``simulated_time_s``,
    ``wall_time_s``, ``bytes_moved``, ``bytes_<link>``, ``time_to_<target>_s`` where a target
    was reached).

    Raises
    ------
    ScenarioError
        If an algorithm name is unknown or a setting does not fit it.
    """
    import pandas as pd

    from simfl.studies.sweep import grid, run_sweep

    if not algorithms:
        raise SimflError("compare needs at least one algorithm, e.g. algorithms=['fedavg']")
    points = grid(scenario, {}, algorithms=list(algorithms))
    results, metrics = run_sweep(points, executor=executor, workers=workers,
                                 progress=progress)
    frames = [metrics.rename(columns={"run": "algorithm"})]
    label = dict(zip(results["run"], results["algorithm"], strict=True))
    frames[0]["algorithm"] = frames[0]["algorithm"].map(label)
    rows: list[dict[str, Any]] = []
    for _, row in results.iterrows():
        for column, value in row.items():
            name = str(column)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and not pd.isna(value) and (
                    name in ("simulated_time_s", "wall_time_s", "bytes_moved")
                    or name.startswith(("bytes_", "time_to_"))):
                rows.append({"algorithm": row["algorithm"], "t_s": row["simulated_time_s"],
                             "round": -1, "node": "run", "metric": name,
                             "value": float(value)})
    frames.append(pd.DataFrame(rows))
    columns = ["algorithm", "t_s", "round", "node", "metric", "value"]
    return pd.concat(frames, ignore_index=True)[columns]
