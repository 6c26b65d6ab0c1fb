"""Benchmark: FuseFL block sizes and FLOPs per model, K and M; one ResNet-8 epoch on this CPU.

Usage::

    python benchmarks/fusefl_blocks.py [--models mlp,cnn,resnet8,resnet18] [--clients 5,10]
                                       [--epoch-samples 1000] [--threads 1]

Prints, for every model kind, number of clients M, width (the default 1/sqrt(M) scaling of
the base width, and the official explicit ResNet-18 width 20) and number of blocks K:

- per block of one client: parameters, bytes as sent (float32, BatchNorm statistics
  included), forward and end-to-end training FLOPs per sample (the classifier is a row);
- the fused model: parameters (M branches, conv1x1 adaptors where the features are images,
  linear adaptors for the MLP, one averaged classifier) relative to one unscaled model,
  and per-sample FLOPs of each stage's training (frozen forward + trainable part) and of
  the fused model's forward;

then the wall time of one epoch of ResNet-8 (base width 16, SGD, batch 32) on random
CIFAR-shaped images.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from simfl.learning.blocks import block_stats, scaled_hidden, split_blocks
from simfl.learning.flops import inference_flops_per_sample, training_flops_per_sample
from simfl.learning.fused import first_stage, fuse, fused_model, next_stage, stage_flops
from simfl.learning.models import build_model
from simfl.learning.training import TrainConfig, train_local

# kind -> (input shape, base widths, values of K)
SETUPS: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "mlp": ((64,), (100, 100, 100), (2, 3)),
    "cnn": ((1, 8, 8), (64, 64), (2,)),
    "resnet8": ((3, 32, 32), (16,), (2, 3, 4)),
    "resnet18": ((3, 32, 32), (64,), (2, 3, 4)),
}
OFFICIAL_WIDTH = {"resnet18": (20,)}


def _mflops(x: float) -> str:
    return f"{x / 1e6:10.3f}"


def report(kind: str, m: int, hidden: tuple[int, ...], k: int) -> None:
    """Print the per-block table and the fused model's totals for one setting."""
    shape, base, _ = SETUPS[kind]
    one = sum(p.numel() for p in build_model(kind, shape, 10, hidden=base, seed=0).parameters())
    clients = [split_blocks(kind, shape, 10, num_blocks=k, hidden=hidden, seed=s)
               for s in range(m)]
    stats = block_stats(clients[0], shape)
    total_bytes = sum(s.size_bytes for s in stats)
    print(f"\n{kind} M={m} hidden={hidden} K={k} split_after={clients[0].split_after}")
    print(f"  {'part':<11}{'params':>10}{'bytes':>11}{'share':>7}{'fwd MFLOP':>11}"
          f"{'train MFLOP':>12}  output")
    for s in stats:
        print(f"  {s.name:<11}{s.num_parameters:>10}{s.size_bytes:>11}"
              f"{s.size_bytes / total_bytes:>7.1%}{_mflops(s.forward_flops_per_sample):>11}"
              f"{_mflops(s.training_flops_per_sample):>12}  {s.output_shape}")
    adaptor = "linear" if kind == "mlp" else "conv1x1"
    stages = [first_stage(c, num_clients=m, adaptor=adaptor) for c in clients]
    fused = []
    for stage_k in range(1, k + 1):
        flops = stage_flops(stages[0], shape)
        upload = sum(p.numel() for p in stages[0].upload().parameters())
        print(f"  stage {stage_k}: branch params {upload:>9}, training MFLOP/sample "
              f"{_mflops(flops.total_per_sample)} (frozen forward "
              f"{_mflops(flops.frozen_forward_per_sample).strip()})")
        fused.append(fuse([s.upload() for s in stages]))
        if stage_k < k:
            stages = [next_stage(s, fused[-1], seed=stage_k) for s in stages]
    final = fused_model(fused, [s.head.classifier for s in stages])
    params = sum(p.numel() for p in final.parameters())
    classifier = stats[-1].num_parameters
    plain = m * sum(s.num_parameters for s in stats) - (m - 1) * classifier
    print(f"  fused model ({adaptor}): {params} params = {params / one:.2f} x one {kind}{base} "
          f"({one}); with avg adaptors {plain / one:.2f} x; forward MFLOP/sample "
          f"{_mflops(inference_flops_per_sample(final, shape)).strip()}")


def epoch_time(samples: int, threads: int) -> None:
    """Print the wall time of one ResNet-8 epoch on random CIFAR-shaped images."""
    torch.set_num_threads(threads)
    model = build_model("resnet8", (3, 32, 32), 10, seed=0)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((samples, 3, 32, 32), generator=gen)
    y = torch.randint(0, 10, (samples,), generator=gen)
    cfg = TrainConfig(lr=0.05, momentum=0.9, epochs=1, batch_size=32)
    train_local(model, x[:64], y[:64], cfg, np.random.default_rng(0))  # warm-up
    t0 = time.perf_counter()
    train_local(model, x, y, cfg, np.random.default_rng(1))
    wall_s = time.perf_counter() - t0
    flops = training_flops_per_sample(model, (3, 32, 32)) * samples
    print(f"\nresnet8 w=16: one epoch of {samples} samples (batch 32, {threads} thread(s)): "
          f"{wall_s:.2f} s, {flops / wall_s / 1e9:.2f} GFLOP/s counted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,cnn,resnet8,resnet18")
    parser.add_argument("--clients", default="5,10")
    parser.add_argument("--epoch-samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for kind in args.models.split(","):
        _, base, ks = SETUPS[kind]
        for m in map(int, args.clients.split(",")):
            widths = [scaled_hidden(base, m)]
            if kind in OFFICIAL_WIDTH and m == 5:
                widths.append(OFFICIAL_WIDTH[kind])
            for hidden in widths:
                for k in ks:
                    report(kind, m, hidden, k)
    if args.epoch_samples:
        epoch_time(args.epoch_samples, args.threads)


if __name__ == "__main__":
    main()
