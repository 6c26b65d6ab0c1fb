"""FedAvg throughput: simfl's client updates per wall second against a bare PyTorch loop.

The workload (benchmarks/fedavg_throughput.yaml): digits scaled to [0, 1], 20% stratified
holdout (random_state 0), 100 clients by Dirichlet(0.5), MLP 64-64-10, 10 clients per
round, 1 local epoch, batch 32, SGD lr 0.05, 300 rounds. The reference is a plain PyTorch
FedAvg loop over the same client shards and initial weights, timed in the same process and
run. Goal: ratio (simfl / bare) >= 0.8 at the same accuracy.

Usage: ``python benchmarks/fedavg_throughput.py [--repeats 3] [--json out.json]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from simfl.engine.simulation import Simulation
from simfl.runs.runner import simulate
from simfl.scenario.load import load_scenario
from simfl.scenario.world import build_world

HERE = Path(__file__).resolve().parent


def bare_fedavg(
    shards: list[tuple[torch.Tensor, torch.Tensor]],
    test: tuple[torch.Tensor, torch.Tensor],
    initial: nn.Module,
    rounds: int,
    clients_per_round: int,
    lr: float,
    batch_size: int,
    seed: int,
) -> tuple[float, int]:
    """Return (test accuracy, client updates) of a plain PyTorch FedAvg loop."""
    rng = np.random.default_rng(seed)
    model = initial
    global_state = {k: v.clone() for k, v in model.state_dict().items()}
    loss_fn = nn.CrossEntropyLoss()
    updates = 0
    for _ in range(rounds):
        chosen = rng.choice(len(shards), size=clients_per_round, replace=False)
        states, weights = [], []
        for c in chosen:
            x, y = shards[c]
            model.load_state_dict(global_state)
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            perm = torch.from_numpy(rng.permutation(len(y)))
            for start in range(0, len(y), batch_size):
                idx = perm[start:start + batch_size]
                opt.zero_grad()
                loss_fn(model(x[idx]), y[idx]).backward()
                opt.step()
            states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            weights.append(len(y))
            updates += 1
        total = float(sum(weights))
        global_state = {
            k: sum(s[k] * (w / total) for s, w in zip(states, weights, strict=True))
            for k in global_state
        }
    model.load_state_dict(global_state)
    with torch.no_grad():
        acc = (model(test[0]).argmax(1) == test[1]).float().mean().item()
    return acc, updates


def main() -> None:
    """Time simfl and the bare loop, alternating, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    scenario = load_scenario(HERE / "fedavg_throughput.yaml")
    torch.set_num_threads(scenario.torch_threads)
    cfg = scenario.algorithm

    world = build_world(scenario, Simulation(scenario.epoch, scenario.seed))
    shards = [(c.x, c.y) for c in world.clients]
    test = (world.test_x, world.test_y)

    sim_times, bare_times, sim_accs, bare_accs = [], [], [], []
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        result = simulate(scenario)
        sim_times.append(time.perf_counter() - t0)
        sim_accs.append(result.summary["final_metrics"]["accuracy"])

        initial = world.model_factory()
        t0 = time.perf_counter()
        acc, _updates = bare_fedavg(shards, test, initial, cfg.rounds, cfg.clients_per_round,
                                   scenario.training.lr, scenario.training.batch_size, rep)
        bare_times.append(time.perf_counter() - t0)
        bare_accs.append(acc)

    n_updates = cfg.rounds * cfg.clients_per_round
    sim_s, bare_s = min(sim_times), min(bare_times)
    figures = {
        "client_updates": n_updates,
        "simfl_wall_s": sim_s,
        "bare_wall_s": bare_s,
        "simfl_updates_per_s": n_updates / sim_s,
        "bare_updates_per_s": n_updates / bare_s,
        "ratio_simfl_over_bare": bare_s / sim_s,
        "simfl_accuracy": float(np.mean(sim_accs)),
        "bare_accuracy": float(np.mean(bare_accs)),
        "repeats": args.repeats,
        "torch_threads": scenario.torch_threads,
    }
    print(f"client updates          : {n_updates} per run, best of {args.repeats} runs")
    print(f"simfl (incl. world build): {figures['simfl_updates_per_s']:8.0f} updates/s "
          f"({sim_s:.2f} s)  test accuracy {figures['simfl_accuracy']:.3f}")
    print(f"bare PyTorch loop        : {figures['bare_updates_per_s']:8.0f} updates/s "
          f"({bare_s:.2f} s)  test accuracy {figures['bare_accuracy']:.3f}")
    print(f"ratio simfl / bare       : {figures['ratio_simfl_over_bare']:.2f}  (goal >= 0.80)")
    if args.json:
        from simfl.atomic import write_json

        write_json(args.json, figures)


if __name__ == "__main__":
    main()
