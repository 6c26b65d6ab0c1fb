"""Batched vs sequential client training: client-steps per second, measured in one run.

The workload is that of benchmarks/fedavg_throughput.yaml (digits, 100 Dirichlet(0.5)
clients, batch 32, SGD lr 0.05, 1 local epoch), with the MLP 64-64-10 and variants: 10 or 100
clients per round, the CNN (16, 32 channels) on 1x8x8 digits, logistic regression, GRU and
LSTM (one layer of 32 over 8 rows of 8 pixels). Each round trains the chosen clients from the
same start vector either one by one with ``train_local`` (as a simulation does: set_flat,
train, get_flat) or all at once with ``train_batched``; the two are timed alternately in the
same process, best of ``--repeats``. Evaluation of 10 or 100 models on the test set is timed
the same way (``evaluate`` per model against ``evaluate_batched_each``). FedAvg runs of 300
rounds x 10 clients (MLP, CNN) with each path give the test accuracy of both.

Usage: ``python benchmarks/batched_training.py [--repeats 3] [--threads 1] [--json out.json]``
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from simfl.engine.simulation import Simulation
from simfl.learning.batched_evaluation import evaluate_batched_each
from simfl.learning.batched_training import BatchJob, train_batched
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import TrainConfig, TrainResult, evaluate, train_local
from simfl.scenario.load import load_scenario
from simfl.scenario.world import World, build_world

HERE = Path(__file__).resolve().parent

#: (name, scenario overrides, clients per round)
WORKLOADS: list[tuple[str, list[str], int]] = [
    ("mlp 64-64, 10 clients", [], 10),
    ("mlp 64-64, 100 clients", [], 100),
    ("logreg, 10 clients", ["model.kind=logreg"], 10),
    ("logreg, 100 clients", ["model.kind=logreg"], 100),
    ("cnn 16-32 1x8x8, 10 clients", ["model.kind=cnn", "model.hidden=[16, 32]"], 10),
    ("cnn 16-32 1x8x8, 100 clients", ["model.kind=cnn", "model.hidden=[16, 32]"], 100),
    ("gru 32, 10 clients", ["model.kind=gru", "model.hidden=[32]"], 10),
    ("gru 32, 100 clients", ["model.kind=gru", "model.hidden=[32]"], 100),
    ("lstm 32, 10 clients", ["model.kind=lstm", "model.hidden=[32]"], 10),
    ("lstm 32, 100 clients", ["model.kind=lstm", "model.hidden=[32]"], 100),
]

#: (name, scenario overrides, models, each on its own test slice (else the 360-sample set))
EVALUATIONS: list[tuple[str, list[str], int, bool]] = [
    ("evaluate mlp 64-64, 10 models", [], 10, False),
    ("evaluate mlp 64-64, 100 models", [], 100, False),
    ("evaluate mlp 64-64, 100 own sets", [], 100, True),
    ("evaluate cnn 16-32, 100 models", ["model.kind=cnn", "model.hidden=[16, 32]"], 100, False),
]

#: (name, scenario overrides) of FedAvg runs, 300 rounds x 10 clients, with each path
ACCURACY_RUNS: list[tuple[str, list[str]]] = [
    ("accuracy FedAvg mlp 64-64", []),
    ("accuracy FedAvg cnn 16-32", ["model.kind=cnn", "model.hidden=[16, 32]"]),
]

Trainer = Callable[[nn.Module, torch.Tensor, World, list[int], list[np.random.Generator]],
                   list[tuple[torch.Tensor, TrainResult]]]


def sequential(model: nn.Module, start: torch.Tensor, world: World, chosen: list[int],
               rngs: list[np.random.Generator]) -> list[tuple[torch.Tensor, TrainResult]]:
    """Return each chosen client's (trained vector, result), trained one by one."""
    out = []
    for c, rng in zip(chosen, rngs, strict=True):
        set_flat(model, start)
        client = world.clients[c]
        result = train_local(model, client.x, client.y, world.train_config, rng, world.task)
        out.append((get_flat(model), result))
    return out


def batched(model: nn.Module, start: torch.Tensor, world: World, chosen: list[int],
            rngs: list[np.random.Generator]) -> list[tuple[torch.Tensor, TrainResult]]:
    """Return each chosen client's (trained vector, result), trained as one batch."""
    cfg: TrainConfig = world.train_config
    jobs = [BatchJob(start, world.clients[c].x, world.clients[c].y, cfg, rng)
            for c, rng in zip(chosen, rngs, strict=True)]
    return train_batched(model, jobs, world.task)


def rounds_of(world: World, rounds: int, per_round: int, seed: int) -> list[list[int]]:
    """Return the clients chosen in each round (without replacement within a round)."""
    rng = np.random.default_rng(seed)
    return [rng.choice(len(world.clients), per_round, replace=False).tolist()
            for _ in range(rounds)]


def time_rounds(train: Trainer, model: nn.Module, world: World, plan: list[list[int]]
                ) -> tuple[float, float, int]:
    """Return (wall seconds, CPU seconds, client-steps) of training every round of ``plan``.

    CPU seconds (this process, all threads) are less disturbed than wall seconds when
    other jobs share the machine.
    """
    start = world.initial_parameters()
    streams = [[np.random.default_rng([r, c]) for c in chosen] for r, chosen in enumerate(plan)]
    steps = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for chosen, rngs in zip(plan, streams, strict=True):
        steps += sum(res.num_steps for _, res in train(model, start, world, chosen, rngs))
    return time.perf_counter() - t0, time.process_time() - c0, steps


def max_difference(model: nn.Module, world: World, chosen: list[int]) -> float:
    """Return the largest |batched - sequential| parameter difference over one round."""
    start = world.initial_parameters()
    a = sequential(model, start, world, chosen, [np.random.default_rng(c) for c in chosen])
    b = batched(model, start, world, chosen, [np.random.default_rng(c) for c in chosen])
    return max(float((va - vb).abs().max()) for (va, _), (vb, _) in zip(a, b, strict=True))


def time_evaluation(world: World, n_models: int, own_tests: bool, repeats: int
                    ) -> dict[str, float]:
    """Return models evaluated per CPU second, one by one and batched.

    With ``own_tests`` each model has its own test set (the test set cut in 10 slices, as
    per-client test data), else all share the whole test set.
    """
    model = world.model_factory()
    gen = torch.Generator().manual_seed(0)
    start = world.initial_parameters()
    vectors = start + 0.01 * torch.randn((n_models, start.numel()), generator=gen)
    slices = [(x, y) for x, y in zip(world.test_x.chunk(10), world.test_y.chunk(10),
                                     strict=True)]
    whole = (world.test_x, world.test_y)
    tests = [slices[i % 10] if own_tests else whole for i in range(n_models)]
    seq_s, bat_s = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        expected = []
        for vec, (x, y) in zip(vectors, tests, strict=True):
            set_flat(model, vec)
            expected.append(evaluate(model, x, y, world.task))
        seq_s.append(time.process_time() - t0)
        t0 = time.process_time()
        got = evaluate_batched_each(model, vectors, tests, world.task)
        bat_s.append(time.process_time() - t0)
    worst = max(abs(g["loss"] - e["loss"]) for g, e in zip(got, expected, strict=True))
    return {"sequential_models_per_cpu_s": n_models / min(seq_s),
            "batched_models_per_cpu_s": n_models / min(bat_s),
            "cpu_ratio": min(seq_s) / min(bat_s), "max_abs_loss_difference": worst}


def fedavg_metrics(train: Trainer, world: World, rounds: int, per_round: int
                   ) -> dict[str, float]:
    """Return the test metrics after a FedAvg run whose local updates use ``train``."""
    model = world.model_factory()
    vec = world.initial_parameters()
    for r, chosen in enumerate(rounds_of(world, rounds, per_round, seed=1)):
        rngs = [np.random.default_rng([r, c]) for c in chosen]
        trained = train(model, vec, world, chosen, rngs)
        weights = torch.tensor([res.num_samples for _, res in trained], dtype=torch.float32)
        stacked = torch.stack([v for v, _ in trained])
        vec = (stacked * (weights / weights.sum())[:, None]).sum(dim=0)
    return world.evaluate(vec)


def world_of(overrides: list[str], threads: int) -> World:
    """Return the benchmark world with ``overrides`` applied, at ``threads`` torch threads."""
    scenario = load_scenario(HERE / "fedavg_throughput.yaml", overrides)
    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    torch.set_num_threads(threads)  # build_world sets the scenario's
    return world


def training_row(world: World, per_round: int, updates: int, repeats: int) -> dict[str, float]:
    """Return client-steps per second of both paths (wall and CPU) and their difference."""
    model = world.model_factory()
    plan = rounds_of(world, max(1, updates // per_round), per_round, seed=0)
    seq, bat = [], []
    for _ in range(repeats):
        seq.append(time_rounds(sequential, model, world, plan))
        bat.append(time_rounds(batched, model, world, plan))
    steps = seq[0][2]
    assert all(r[2] == steps for r in seq + bat)
    wall_seq, wall_bat = min(r[0] for r in seq), min(r[0] for r in bat)
    cpu_seq, cpu_bat = min(r[1] for r in seq), min(r[1] for r in bat)
    return {
        "client_steps": steps,
        "sequential_steps_per_s": steps / wall_seq,
        "batched_steps_per_s": steps / wall_bat,
        "ratio": wall_seq / wall_bat,
        "sequential_steps_per_cpu_s": steps / cpu_seq,
        "batched_steps_per_cpu_s": steps / cpu_bat,
        "cpu_ratio": cpu_seq / cpu_bat,
        "max_abs_difference": max_difference(model, world, plan[0]),
    }


def main() -> None:
    """Time both paths on every workload and print client-steps per second and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--updates", type=int, default=400,
                        help="client updates per timing (rounds = updates / clients per round)")
    parser.add_argument("--only", default="", help="run only workloads whose name has this")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, torch threads {args.threads}")
    figures: dict[str, dict[str, float]] = {}
    print(f"{'workload':30s} {'steps':>6s} | client-steps/s wall: seq, batched, ratio | "
          "per CPU s: seq, batched, ratio | max|batched - sequential|")
    for name, overrides, per_round in WORKLOADS:
        if args.only in name:
            row = training_row(world_of(overrides, args.threads), per_round, args.updates,
                               args.repeats)
            figures[name] = row
            print(f"{name:30s} {row['client_steps']:6.0f} | "
                  f"{row['sequential_steps_per_s']:7.0f} {row['batched_steps_per_s']:7.0f} "
                  f"{row['ratio']:5.2f} | {row['sequential_steps_per_cpu_s']:7.0f} "
                  f"{row['batched_steps_per_cpu_s']:7.0f} {row['cpu_ratio']:5.2f} | "
                  f"{row['max_abs_difference']:.1e}", flush=True)
    for name, overrides, n_models, own_tests in EVALUATIONS:
        if args.only in name:
            row = time_evaluation(world_of(overrides, args.threads), n_models, own_tests,
                                  args.repeats)
            figures[name] = row
            print(f"{name:34s} models per CPU s: seq {row['sequential_models_per_cpu_s']:6.0f} "
                  f"batched {row['batched_models_per_cpu_s']:6.0f} ratio "
                  f"{row['cpu_ratio']:5.2f} | max|loss diff| "
                  f"{row['max_abs_loss_difference']:.1e}", flush=True)
    for name, overrides in ACCURACY_RUNS:
        if args.only in name:
            world = world_of(overrides, args.threads)
            seq = fedavg_metrics(sequential, world, 300, 10)
            bat = fedavg_metrics(batched, world, 300, 10)
            figures[name] = {"sequential_accuracy": seq["accuracy"],
                             "batched_accuracy": bat["accuracy"],
                             "sequential_loss": seq["loss"], "batched_loss": bat["loss"]}
            print(f"{name}: test accuracy sequential {seq['accuracy']:.4f}, batched "
                  f"{bat['accuracy']:.4f} ({bat['accuracy'] - seq['accuracy']:+.4f}); test loss "
                  f"{seq['loss']:.6f} vs {bat['loss']:.6f} ({bat['loss'] - seq['loss']:+.1e})",
                  flush=True)
    print(f"load average {os.getloadavg()}")
    if args.json:
        from simfl.atomic import write_json

        write_json(args.json, figures)


if __name__ == "__main__":
    main()
