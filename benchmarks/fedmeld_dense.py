"""Dense FedMeld: a simulated day over the Starlink-like shell, and where the wall time goes.

The workload: ``scenarios/fedmeld_demo.yaml`` (6 regions along a ground track, 48 IoT
devices, MLP 64-64-10, 4 devices per region round, hourly evaluation of every region model)
with its constellation replaced by ``orbits/starlink_like_53deg_550km_72x22.tle`` (1,584
satellites, 72 planes x 22; 4 store-carry-forward satellites per plane) and ``--hours`` of
simulated time (default 24). The run is ``simfl run``'s: simulate, then write the run
directory (trace.parquet, metrics.csv, summary.json; no figures) into a temporary folder.

Wall and CPU seconds are split into sections by wrapping simfl's functions
(``benchmarks/breakdown.py``): contact plan (SGP4 passes and the schedule built from them),
world (data, model, nodes, links), training (the executor's jobs), evaluation (region,
consensus and personalized metrics), output (trace and metrics frames, summary, files);
the remainder is the event loop: SimPy, the region processes, transfers over passes, trace
recording. Goal (issue 11): <= 2 minutes wall on this 2-core machine.

Usage::

    python benchmarks/fedmeld_dense.py [--hours 24] [--cache-dir DIR] [-o key=value ...]
                                       [--json out.json]

``--cache-dir`` reuses contact plans (default: a new temporary folder, so the plan is
computed); ``-o`` overrides the scenario as ``simfl run -o`` does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from breakdown import Breakdown, machine_load, peak_rss_bytes

REPO = Path(__file__).resolve().parents[1]

SCENARIO = REPO / "scenarios" / "fedmeld_demo.yaml"
SHELL = REPO / "orbits" / "starlink_like_53deg_550km_72x22.tle"
SECTIONS = ("contact plan", "world", "training", "evaluation", "output")


def instrument(breakdown: Breakdown) -> None:
    """Wrap simfl's functions so that their time goes to the benchmark's sections."""
    import simfl.runs.directory as directory
    import simfl.runs.runner as runner
    import simfl.scenario.space_world as space_world
    from simfl.engine.metrics import Metrics
    from simfl.engine.trace import Trace
    from simfl.scenario.world import World

    breakdown.wrap(space_world, "compute_contacts", "contact plan")
    breakdown.wrap(space_world, "ContactSchedule", "contact plan")
    for name in ("evaluate", "evaluate_clients", "evaluate_many"):
        if hasattr(World, name):
            breakdown.wrap(World, name, "evaluation")
    for owner, name in ((runner, "summarize"), (Trace, "to_frame"), (Metrics, "to_frame"),
                        (directory, "write_run_directory")):
        breakdown.wrap(owner, name, "output")
    build = runner.build_world

    def build_world(*args: Any, **kwargs: Any) -> Any:
        with breakdown.section("world"):
            world = build(*args, **kwargs)
        breakdown.wrap(world.jobs, "run_pending", "training")
        return world

    runner.build_world = build_world  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="contact-plan cache (default: a new temporary folder)")
    parser.add_argument("-o", "--override", action="append", default=[],
                        help="scenario override key=value, as simfl run -o")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)

    load_before = machine_load()
    begin_wall, begin_cpu = time.perf_counter(), time.process_time()
    breakdown = Breakdown()
    with breakdown.section("imports"):
        from simfl.runs.api import load_scenario, simulate
        from simfl.runs.directory import write_run_directory
    instrument(breakdown)
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir if args.cache_dir is not None else Path(tmp) / "contacts"
        overrides = [f"space.constellation.tle={SHELL}", f"algorithm.duration_s={args.hours} h",
                     f"space.cache_dir={cache_dir}", "output.figures=false", *args.override]
        scenario = load_scenario(SCENARIO, overrides)
        result = simulate(scenario)
        write_run_directory(result, Path(tmp) / "run")
    total_wall_s = time.perf_counter() - begin_wall
    total_cpu_s = time.process_time() - begin_cpu
    rows = breakdown.rows(total_wall_s, total_cpu_s, "events (SimPy, processes, trace)")
    summary = result.summary
    print(f"FedMeld {args.hours:g} h over {SHELL.name}: {summary['rounds_completed']:,} region "
          f"rounds, {summary['event_counts'].get('transfer', 0):,} transfers, final mean "
          f"accuracy {summary['final_metrics'].get('accuracy', float('nan')):.3f}")
    print(f"machine: {load_before} before, {machine_load()} after")
    print(f"{'section':<36}{'wall s':>9}{'CPU s':>9}{'share':>8}")
    for name, wall_s, cpu_s in rows:
        print(f"{name:<36}{wall_s:>9.2f}{cpu_s:>9.2f}{wall_s / total_wall_s:>8.1%}")
    print(f"{'total':<36}{total_wall_s:>9.2f}{total_cpu_s:>9.2f}   (goal <= 120 s wall); "
          f"peak RSS {peak_rss_bytes() / 2**30:.2f} GiB")
    if args.json is not None:
        from simfl.atomic import write_json

        write_json(args.json, {
            "hours": args.hours, "overrides": args.override,
            "region_rounds": summary["rounds_completed"],
            "final_metrics": summary["final_metrics"],
            "sections": {name: {"wall_s": w, "cpu_s": c} for name, w, c in rows},
            "total_wall_s": total_wall_s, "total_cpu_s": total_cpu_s,
            "peak_rss_bytes": peak_rss_bytes(), "load_before": load_before,
            "load_after": machine_load(),
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
