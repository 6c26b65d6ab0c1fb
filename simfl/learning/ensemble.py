"""FuseFL's baselines on M trained models: logit ensemble, one-shot averaging, FedDF.

- Ensemble: average the M models' logits (an upper bound that costs M models).
- One-shot FedAvg: average the M models' weights once; the official FuseFL code averages
  uniformly, BatchNorm buffers included (:func:`average_models`).
- FedDF (Lin et al., "Ensemble Distillation for Robust Model Fusion in Federated
  Learning", NeurIPS 2020): a student (usually the averaged model) is trained on unlabeled
  public inputs to match the softmax of the ensemble's averaged logits, minimising
  ``KL(softmax(t / T) || softmax(s / T))`` (:func:`distill`). The FuseFL repository has no
  FedDF; its numbers come from the paper.

Cited by FuseFL (Tang et al., arXiv 2410.20380) as the baselines to beat.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.minibatch_schedule import total_steps
from simfl.learning.training import TrainConfig, TrainResult


class EnsembleModel(nn.Module):
    """The mean of the logits of M models: ``(n, *input_shape) -> (n, num_outputs)``."""

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        if not models:
            raise SimflError("EnsembleModel: no models; give at least one")
        self.members = nn.ModuleList(models)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the mean over members of their logits."""
        return torch.stack([m(x) for m in self.members]).mean(dim=0)


def average_models(
    models: Sequence[nn.Module], weights: Sequence[float] | None = None
) -> nn.Module:
    """Return a new model whose parameters and float buffers are the weighted mean.

    ``weights`` (normalised) default to uniform, as the official one-shot FedAvg. BatchNorm
    running statistics are averaged like the weights; integer buffers (batch counters) are
    taken from the first model.
    """
    if not models:
        raise SimflError("average_models: no models; give at least one")
    w = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(models),) or (w < 0).any() or not w.sum() > 0:
        raise SimflError(
            f"average_models: weights {list(w)} must be one non-negative weight per model "
            "with a positive sum"
        )
    w = w / w.sum()
    states = [m.state_dict() for m in models]
    merged = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            merged[name] = sum(float(wi) * s[name] for wi, s in zip(w, states, strict=True))
        else:
            merged[name] = first.clone()
    out = copy.deepcopy(models[0])
    out.load_state_dict(merged)
    return out


def ensemble_logits(
    models: Sequence[nn.Module], x: torch.Tensor, batch_size: int = 1024
) -> torch.Tensor:
    """Return the mean logits ``(n, num_outputs)`` of ``models`` on ``x``, in eval mode.

    Each model's train/eval mode is restored afterwards.
    """
    ensemble = EnsembleModel(models)
    modes = [m.training for m in ensemble.modules()]
    ensemble.eval()
    try:
        with torch.no_grad():
            parts = [ensemble(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
            return torch.cat(parts)
    finally:
        for m, mode in zip(ensemble.modules(), modes, strict=True):
            m.training = mode


def distill(
    student: nn.Module,
    teachers: Sequence[nn.Module],
    x_public: torch.Tensor,
    cfg: TrainConfig,
    rng: np.random.Generator,
    temperature: float = 1.0,
) -> TrainResult:
    """Train ``student`` in place to match the teachers' averaged logits on ``x_public``.

    The teachers' mean logits are computed once (eval mode); each minibatch minimises
    ``T^2 * KL(softmax(t / T) || softmax(s / T))`` (batch mean). ``cfg`` gives the
    optimizer, learning rate, batch size and ``steps`` (or epochs over ``x_public``);
    ``rng`` shuffles. Compute cost for timing: the teachers' forward FLOPs once per public
    sample, plus the student's training FLOPs per processed sample.

    Returns
    -------
    TrainResult
        ``mean_loss`` is the mean distillation loss over the processed samples.
    """
    if not temperature > 0:
        raise SimflError(f"distill: temperature={temperature} must be > 0, e.g. 1.0")
    n = int(x_public.shape[0])
    if n == 0:
        raise SimflError("distill: no public inputs; give at least one unlabeled sample")
    targets = torch.softmax(ensemble_logits(teachers, x_public) / temperature, dim=1)
    params = [p for p in student.parameters() if p.requires_grad]
    opt: torch.optim.Optimizer = (
        torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.optimizer == "adam"
        else torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                             weight_decay=cfg.weight_decay)
    )
    steps_to_run = total_steps(n, cfg.batch_size, cfg.epochs, cfg.steps)
    student.train()
    steps = seen = 0
    loss_sum = 0.0
    while steps < steps_to_run:
        perm = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, cfg.batch_size):
            if steps == steps_to_run:
                break
            idx = perm[start : start + cfg.batch_size]
            log_p = torch.log_softmax(student(x_public.index_select(0, idx)) / temperature, dim=1)
            loss = nn.functional.kl_div(log_p, targets.index_select(0, idx),
                                        reduction="batchmean") * temperature**2
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.numel()
            seen += idx.numel()
            steps += 1
    return TrainResult(n, steps, seen, loss_sum / seen)
