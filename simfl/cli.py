"""The ``simfl`` command line: run, validate, contacts, tle.

Every user error is printed as one line per problem and exits with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from simfl import __version__, cli_hrg, cli_orbits, cli_studies
from simfl.atomic import folder_problem
from simfl.console import install_warning_printer
from simfl.errors import SimflError

T = TypeVar("T")
EXIT_USAGE = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


def _add_scenario_args(p: argparse.ArgumentParser, file_optional: bool = False) -> None:
    if file_optional:
        p.add_argument("file", type=Path, nargs="?", default=None,
                       help="scenario YAML file (not with --resume)")
    else:
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


def _cmd_run(args: argparse.Namespace) -> int:
    from simfl.analysis.tables import summary_table
    from simfl.runs.checkpoint import Checkpointer
    from simfl.runs.directory import (
        check_run_dir,
        default_run_dir,
        run_dir_lock,
        write_run_directory,
    )
    from simfl.runs.runner import simulate
    from simfl.scenario.load import load_scenario

    if args.resume is not None:
        if args.file is not None or args.override or args.seed is not None or args.out:
            raise SimflError("--resume RUN_DIR continues a run as it was started: give no "
                             "scenario file, -o, --seed or --out with it")
        run_dir = args.resume
        point, scenario = Checkpointer.resume(run_dir)
        source: Path = point.folder / "scenario.yaml"
    else:
        if args.file is None:
            raise SimflError("simfl run needs a scenario file (or --resume RUN_DIR)")
        scenario = load_scenario(args.file, args.override, args.seed)
        run_dir = (args.out if args.out is not None
                   else default_run_dir(args.runs_root, scenario.name))
        source = args.file
        point = None
    flag = "--out " if args.out is not None else ""
    try:
        check_run_dir(run_dir, args.overwrite)
    except SimflError as exc:
        raise SimflError([flag + p for p in exc.problems]) from None
    with run_dir_lock(run_dir):
        if point is None and scenario.output.checkpoint_every_s is not None:
            point = Checkpointer.start(run_dir, scenario)
            if not args.quiet:
                print(f"checkpoints in {point.folder}; if the run is killed, continue it with "
                      f"simfl run --resume {run_dir}", file=sys.stderr)
        result = _in_file(source, lambda: simulate(scenario, progress=not args.quiet,
                                                   checkpoint=point))
        try:
            write_run_directory(result, run_dir, overwrite=args.overwrite)
        except OSError as exc:
            raise SimflError(f"{run_dir}: cannot write the run directory ({exc.strerror or exc})"
                             "; the simulation finished but nothing was kept") from None
        if point is not None:
            if args.resume is not None and not args.quiet:
                print(f"resumed: {point.memo.hits} training jobs taken from the checkpoint",
                      file=sys.stderr)
            point.finish()
    if not args.quiet:
        shown = {k: v for k, v in result.summary.items()  # details: in summary.json;
                 if k not in ("details", "warnings")}  # warnings: printed below
        print(summary_table(shown, title=f"simfl run {scenario.name}"))
    for warning in result.summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"run directory: {run_dir}")
    return 0


def _in_file(file: Path, work: Callable[[], T]) -> T:
    """Return ``work()``; each line of a SimflError it raises names a file (``file`` if none).

    A line names a file when it starts with the path of one (``data/x.idx: ...``).
    """
    try:
        return work()
    except SimflError as exc:
        named = [p if str(file) in p or Path(p.split(":", 1)[0]).exists() else f"{file}: {p}"
                 for p in exc.problems]
        raise type(exc)(named) from None


def _cmd_plot(args: argparse.Namespace) -> int:
    from simfl.runs.directory import read_run_tables, write_figures

    trace, metrics, name = read_run_tables(args.run_dir)
    run_dir: Path = args.run_dir
    t_range = None
    if args.t_range:
        try:
            lo, hi = (float(v) for v in args.t_range.split(","))
        except ValueError:
            raise SimflError(f"--t-range {args.t_range!r}: write START_S,END_S, e.g. "
                             "0,3600") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise SimflError(f"--t-range {args.t_range!r}: END_S must be after START_S, both "
                             "finite")
        t_range = (lo, hi)
    if args.metric is not None and args.metric not in set(metrics["metric"]):
        raise SimflError(f"--metric {args.metric!r} is not in this run; it has "
                         f"{', '.join(sorted(set(metrics['metric'])))}")
    nodes = args.nodes.split(",") if args.nodes else None
    figures_dir = args.out or run_dir / "figures"
    problem = folder_problem(figures_dir)
    if problem is not None:
        raise SimflError(f"{'--out ' if args.out else ''}{figures_dir}: {problem}")
    paths = write_figures(figures_dir, trace, metrics, name,
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
    parser.add_argument("--version", action="version", version=f"simfl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_run = sub.add_parser("run", help="run a scenario and write a run directory")
    _add_scenario_args(p_run, file_optional=True)
    p_run.add_argument("--out", type=Path, default=None,
                       help="run directory (default: runs/<name>-<UTC time>)")
    p_run.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                       help="continue the killed run that was writing RUN_DIR from its last "
                            "checkpoint (output.checkpoint_every_s) to the same result")
    p_run.add_argument("--runs-root", type=Path, default=Path("runs"), help=argparse.SUPPRESS)
    p_run.add_argument("--overwrite", action="store_true",
                       help="replace a previous run in --out (once the new run is complete)")
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
    p_plot.add_argument("--max-nodes", type=cli_studies.positive_int, default=40,
                        help="timeline rows at most")
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
    """Run the ``simfl`` command; return its exit code.

    0: done. 2: bad input or environment (one ``error:`` line per problem). 130: interrupted.
    1: a bug in simfl; one line, and the traceback only with ``SIMFL_TRACEBACK=1``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    install_warning_printer()
    try:
        return int(args.func(args))
    except SimflError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C prints nothing more
        print("interrupted; unfinished outputs were not kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("error: out of memory; make the scenario smaller (fewer clients, satellites or "
              "sites, a shorter space.horizon_s, a smaller model)", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}; check the path, its permissions and the "
              "free disk space", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if os.environ.get("SIMFL_TRACEBACK"):
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"error: internal error ({type(exc).__name__}: {text}); this is a bug in simfl, "
              "please report it with the command and the scenario (SIMFL_TRACEBACK=1 shows the "
              "traceback)", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
