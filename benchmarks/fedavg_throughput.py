"""FedAvg throughput: simfl's client updates per wall second against a bare PyTorch loop.

The workload (benchmarks/fedavg_throughput.yaml): digits scaled to [0, 1], 20% stratified
holdout (random_state 0), 100 clients by Dirichlet(0.5), MLP 64-64-10, 10 clients per
round, 1 local epoch, batch 32, SGD lr 0.05, 300 rounds; and a variant with every one of
the 100 clients in each of 300 rounds (30,000 client updates). The reference is a plain
sequential PyTorch FedAvg loop over the same client shards and initial weights, timed in the
same process and run, alternating with simfl's runs. simfl runs with its batched executor
(``training.executor: auto``, the default) and with the sequential one. Goals: batched simfl
>= 2x the bare loop's updates per second at equal accuracy (+-0.01); moonshot 4x.

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


VARIANTS = {
    "10 clients/round": ["algorithm.clients_per_round=10", "algorithm.rounds=300"],
    "100 clients/round": ["algorithm.clients_per_round=100", "algorithm.rounds=300"],
}


def measure(overrides: list[str], repeats: int) -> dict[str, float]:
    """Return the best-of-``repeats`` wall times and mean accuracies of the three ways."""
    base = load_scenario(HERE / "fedavg_throughput.yaml", overrides)
    torch.set_num_threads(base.torch_threads)
    cfg = base.algorithm
    world = build_world(base, Simulation(base.epoch, base.seed))
    shards = [(c.x, c.y) for c in world.clients]
    test = (world.test_x, world.test_y)
    ways = {"batched": load_scenario(HERE / "fedavg_throughput.yaml",
                                     [*overrides, "training.executor=auto"]),
            "sequential": load_scenario(HERE / "fedavg_throughput.yaml",
                                        [*overrides, "training.executor=sequential"])}
    times: dict[str, list[float]] = {"batched": [], "sequential": [], "bare": []}
    accs: dict[str, list[float]] = {"batched": [], "sequential": [], "bare": []}
    for rep in range(repeats):
        for way, scenario in ways.items():
            t0 = time.perf_counter()
            result = simulate(scenario)
            times[way].append(time.perf_counter() - t0)
            accs[way].append(result.summary["final_metrics"]["accuracy"])
        t0 = time.perf_counter()
        acc, _updates = bare_fedavg(shards, test, world.model_factory(), cfg.rounds,
                                   cfg.clients_per_round, base.training.lr,
                                   base.training.batch_size, rep)
        times["bare"].append(time.perf_counter() - t0)
        accs["bare"].append(acc)
    n = cfg.rounds * cfg.clients_per_round
    out: dict[str, float] = {"client_updates": n}
    for way in times:
        out[f"{way}_wall_s"] = min(times[way])
        out[f"{way}_updates_per_s"] = n / min(times[way])
        out[f"{way}_accuracy"] = float(np.mean(accs[way]))
    out["ratio_batched_over_bare"] = min(times["bare"]) / min(times["batched"])
    out["ratio_sequential_over_bare"] = min(times["bare"]) / min(times["sequential"])
    return out


def main() -> None:
    """Time simfl (batched and sequential) and the bare loop, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for name, overrides in VARIANTS.items():
        f = figures[name] = measure(overrides, args.repeats)
        print(f"{name}: {f['client_updates']:.0f} client updates per run, best of "
              f"{args.repeats} runs")
        for way, label in (("batched", "simfl batched (world build incl.)"),
                           ("sequential", "simfl sequential"), ("bare", "bare PyTorch loop")):
            print(f"  {label:34s}: {f[f'{way}_updates_per_s']:8.0f} updates/s "
                  f"({f[f'{way}_wall_s']:.2f} s)  test accuracy {f[f'{way}_accuracy']:.3f}")
        print(f"  ratio batched / bare: {f['ratio_batched_over_bare']:.2f} (goal >= 2), "
              f"sequential / bare: {f['ratio_sequential_over_bare']:.2f}")
    if args.json:
        from simfl.atomic import write_json

        write_json(args.json, figures)


if __name__ == "__main__":
    main()
