"""The ``simfl`` command line: run, validate, contacts, tle.

Every user error is printed as one line per problem and exits with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from simfl import cli_hrg, cli_orbits, cli_studies
from simfl.errors import SimflError

EXIT_USAGE = 2


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="scenario YAML file")
    p.add_argument("-o", "--override", action="append", default=[], metavar="A.B.C=VALUE",
                   help="override a scenario value, e.g. -o algorithm.rounds=20 (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="replace the scenario's seed")


def _cmd_validate(args: argparse.Namespace) -> int:
    from simfl.scenario.load import load_scenario

    scenario = load_scenario(args.file, args.override, args.seed)
    algo = scenario.algorithm
    print(f"{args.file}: valid scenario {scenario.name!r} ({algo.name}, {algo.budget_text()}, "
          f"{scenario.data.dataset} over {scenario.partition.num_clients} clients, seed "
          f"{scenario.seed})")
    return 0


def _check_run_dir(run_dir: Path) -> None:
    """Fail before simulating if ``run_dir`` cannot become a directory we can write."""
    if run_dir.exists() and not run_dir.is_dir():
        raise SimflError(
            f"--out {run_dir}: exists and is not a directory; give a new or existing directory"
        )
    parent = run_dir
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise SimflError(
            f"--out {run_dir}: {parent} is not a directory, so nothing can be made under it; "
            "give a directory path"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SimflError(f"--out {run_dir}: {parent} is not writable; give a writable directory")


def _cmd_run(args: argparse.Namespace) -> int:
    from simfl.analysis.tables import summary_table
    from simfl.runs.directory import default_run_dir, write_run_directory
    from simfl.runs.runner import simulate
    from simfl.scenario.load import load_scenario

    scenario = load_scenario(args.file, args.override, args.seed)
    run_dir = args.out if args.out is not None else default_run_dir(args.runs_root, scenario.name)
    _check_run_dir(run_dir)
    result = simulate(scenario, progress=not args.quiet)
    try:
        write_run_directory(result, run_dir)
    except OSError as exc:
        raise SimflError(
            f"{run_dir}: cannot write the run directory ({exc.strerror or exc}); "
            "the simulation finished but its files are incomplete"
        ) from None
    if not args.quiet:
        shown = {k: v for k, v in result.summary.items() if k != "details"}  # in summary.json
        print(summary_table(shown, title=f"simfl run {scenario.name}"))
    print(f"run directory: {run_dir}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    import pandas as pd
    import yaml

    from simfl.runs.directory import write_figures

    run_dir: Path = args.run_dir
    needed = [run_dir / "trace.parquet", run_dir / "metrics.csv"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        raise SimflError(f"{run_dir}: not a run directory (missing {', '.join(missing)}); "
                         "give a directory written by 'simfl run'")
    trace = pd.read_parquet(needed[0])
    metrics = pd.read_csv(needed[1], dtype={"node": str, "metric": str})
    name = run_dir.name
    if (run_dir / "scenario.yaml").exists():
        name = str(yaml.safe_load((run_dir / "scenario.yaml").read_text()).get("name", name))
    t_range = None
    if args.t_range:
        try:
            lo, hi = (float(v) for v in args.t_range.split(","))
        except ValueError:
            raise SimflError(f"--t-range {args.t_range!r}: write START_S,END_S, e.g. "
                             "0,3600") from None
        if not hi > lo:
            raise SimflError(f"--t-range {args.t_range!r}: END_S must be after START_S")
        t_range = (lo, hi)
    if args.metric is not None and args.metric not in set(metrics["metric"]):
        raise SimflError(f"--metric {args.metric!r} is not in this run; it has "
                         f"{', '.join(sorted(set(metrics['metric'])))}")
    nodes = args.nodes.split(",") if args.nodes else None
    paths = write_figures(args.out or run_dir / "figures", trace, metrics, name,
                          metric=args.metric, nodes=nodes, t_range_s=t_range,
                          max_nodes=args.max_nodes)
    for p in paths:
        print(p)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``simfl`` command."""
    parser = argparse.ArgumentParser(
        prog="simfl",
        description="Discrete-event network and orbital simulator for federated learning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_run = sub.add_parser("run", help="run a scenario and write a run directory")
    _add_scenario_args(p_run)
    p_run.add_argument("--out", type=Path, default=None,
                       help="run directory (default: runs/<name>-<UTC time>)")
    p_run.add_argument("--runs-root", type=Path, default=Path("runs"), help=argparse.SUPPRESS)
    p_run.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bar and no summary table")
    p_run.set_defaults(func=_cmd_run)

    p_val = sub.add_parser("validate", help="check a scenario file and list every problem")
    _add_scenario_args(p_val)
    p_val.set_defaults(func=_cmd_validate)

    p_plot = sub.add_parser("plot", help="redraw a run directory's figures (zoom, other nodes)")
    p_plot.add_argument("run_dir", type=Path, help="a directory written by 'simfl run'")
    p_plot.add_argument("--metric", default=None, help="metric to plot (default: accuracy)")
    p_plot.add_argument("--nodes", default=None,
                        help="comma-separated metric nodes, e.g. global,consensus")
    p_plot.add_argument("--t-range", default=None, metavar="START_S,END_S",
                        help="zoom the timeline to simulated seconds START_S..END_S")
    p_plot.add_argument("--max-nodes", type=int, default=40, help="timeline rows at most")
    p_plot.add_argument("--out", type=Path, default=None,
                        help="figures directory (default: RUN_DIR/figures)")
    p_plot.set_defaults(func=_cmd_plot)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [  # type: ignore[type-arg,unused-ignore]
    cli_orbits.register,
    cli_studies.register,
    cli_hrg.register,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``simfl`` command; return its exit code (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SimflError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; files already written are complete, the run has no summary.json",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
