"""The ``simfl`` command line: run, validate, contacts, tle.

Every user error is printed as one line per problem and exits with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from simfl import cli_orbits, cli_studies
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
    print(f"{args.file}: valid scenario {scenario.name!r} ({algo.name}, {algo.rounds} rounds, "
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
        print(summary_table(result.summary, title=f"simfl run {scenario.name}"))
    print(f"run directory: {run_dir}")
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

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [  # type: ignore[type-arg,unused-ignore]
    cli_orbits.register,
    cli_studies.register,
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
