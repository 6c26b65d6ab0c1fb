"""Scaling with devices: world building, a short FedAvg run and peak memory at 1k-100k devices.

The workload per size: FedProx Synthetic(0.5, 0.5) data (``data.dataset: synthetic``: 60
features, 10 classes, ``int(lognormal(4, 2)) + 50`` samples per device, each device's own
20% test split; the global test set is their union), an MLP 64-64-10, FedAvg with 100
clients per round for 10 rounds, evaluated on the global test set before the first round
and after the last (``eval_every_rounds: 10``). Each size runs in a newly spawned
interpreter, so its peak resident memory (``ru_maxrss``) is its own.

Wall and CPU seconds are split into sections by wrapping simfl's functions
(``benchmarks/breakdown.py``): data (generating and splitting the devices' data), world
(the rest of world building: model, FLOP count, nodes, links), training (the executor's
jobs), evaluation, output (trace and metrics frames, summary); the remainder is the
event loop. Goals (issue 11): 10,000 devices built in <= 10 s; 100,000 run in <= 24 GiB.

Usage::

    python benchmarks/scale.py [--sizes 1000,10000,100000] [-o key=value ...]
                               [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from breakdown import Breakdown, machine_load, peak_rss_bytes

SCENARIO = """
name: scale
seed: 0
data: {{dataset: synthetic}}
partition: {{num_clients: {devices}}}
model: {{kind: mlp, hidden: [64, 64]}}
algorithm: {{name: fedavg, rounds: 10, clients_per_round: 100, eval_every_rounds: 10}}
output: {{figures: false}}
"""


def measure(devices: int, overrides: list[str]) -> dict[str, Any]:
    """Return one size's figures; runs in a fresh interpreter (see :func:`main`)."""
    begin_wall, begin_cpu = time.perf_counter(), time.process_time()
    breakdown = Breakdown()
    with breakdown.section("imports"):
        import simfl.runs.runner as runner
        import simfl.scenario.world as world_module
        from simfl.runs.api import load_scenario
        from simfl.scenario.world import World
    breakdown.wrap(world_module, "build_federated_data", "data")
    for name in ("evaluate", "evaluate_clients", "evaluate_many"):
        if hasattr(World, name):
            breakdown.wrap(World, name, "evaluation")
    breakdown.wrap(runner, "summarize", "output")
    build = runner.build_world
    built: list[Any] = []

    def build_world(*args: Any, **kwargs: Any) -> Any:
        with breakdown.section("world"):
            world = build(*args, **kwargs)
        breakdown.wrap(world.jobs, "run_pending", "training")
        breakdown.wrap(world.sim.trace, "to_frame", "output")
        breakdown.wrap(world.sim.metrics, "to_frame", "output")
        built.append(world)
        return world

    runner.build_world = build_world  # type: ignore[assignment]
    scenario = load_scenario(SCENARIO.format(devices=devices), overrides)
    result = runner.simulate(scenario)
    total_wall_s = time.perf_counter() - begin_wall
    total_cpu_s = time.process_time() - begin_cpu
    world = built[0]
    samples = sum(c.num_samples + c.num_test_samples for c in world.clients)
    rows = breakdown.rows(total_wall_s, total_cpu_s, "events")
    return {
        "devices": devices,
        "samples": samples,
        "data_bytes": samples * (world.clients[0].x[0].numel() * 4 + 8),
        "sections": {name: {"wall_s": w, "cpu_s": c} for name, w, c in rows},
        "build_wall_s": breakdown.wall_s["data"] + breakdown.wall_s["world"],
        "build_cpu_s": breakdown.cpu_s["data"] + breakdown.cpu_s["world"],
        "run_wall_s": total_wall_s - sum(breakdown.wall_s[k] for k in ("imports", "data", "world")),
        "total_wall_s": total_wall_s,
        "total_cpu_s": total_cpu_s,
        "peak_rss_bytes": peak_rss_bytes(),
        "final_metrics": result.summary["final_metrics"],
    }


def fresh_measure(devices: int, overrides: list[str]) -> dict[str, Any]:
    """Return :func:`measure` run in a newly spawned interpreter (its own peak memory)."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(measure, devices, overrides).result()


def growth_exponent(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    """Return k in cost ~ devices^k between two sizes (1 = linear)."""
    return math.log(b[key] / a[key]) / math.log(b["devices"] / a["devices"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="comma-separated device counts")
    parser.add_argument("-o", "--override", action="append", default=[],
                        help="scenario override key=value, as simfl run -o")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine_load()}")
    results = []
    for devices in sizes:
        got = fresh_measure(devices, args.override)
        results.append(got)
        sec = got["sections"]
        print(f"{devices:>7,} devices, {got['samples']:>10,} samples "
              f"({got['data_bytes'] / 2**30:.2f} GiB of data): "
              f"build {got['build_wall_s']:.1f} s wall / {got['build_cpu_s']:.1f} s CPU "
              f"(data {sec['data']['wall_s']:.1f} s), run {got['run_wall_s']:.1f} s (training "
              f"{sec['training']['wall_s']:.1f} s, evaluation "
              f"{sec['evaluation']['wall_s']:.1f} s), peak RSS "
              f"{got['peak_rss_bytes'] / 2**30:.2f} GiB   [{machine_load()}]", flush=True)
    for a, b in itertools.pairwise(results):
        print(f"{a['devices']:,} -> {b['devices']:,} devices: build CPU ~ devices^"
              f"{growth_exponent(a, b, 'build_cpu_s'):.2f}, peak memory ~ devices^"
              f"{growth_exponent(a, b, 'peak_rss_bytes'):.2f}, samples ~ devices^"
              f"{growth_exponent(a, b, 'samples'):.2f}")
    if args.json is not None:
        from simfl.atomic import write_json

        write_json(args.json, {"machine": machine_load(), "overrides": args.override,
                               "sizes": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
