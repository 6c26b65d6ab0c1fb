"""Local procedures of personalized FL that are not plain :func:`train_local`.

- :func:`train_pfedme`: Dinh, Tran, Nguyen, "Personalized Federated Learning with Moreau
  Envelopes", NeurIPS 2020 (Algorithm 1, device side).
- :func:`train_perfedavg` and :func:`personalize_perfedavg`: Fallah, Mokhtari, Ozdaglar,
  "Personalized Federated Learning with Theoretical Guarantees: A Model-Agnostic
  Meta-Learning Approach", NeurIPS 2020 (the first-order variant, Per-FedAvg (FO)).

PerMFL's device step and Ditto's personal step are :func:`train_local` with
``prox=(reference, coefficient)``: its proximal gradient is exactly
``coefficient * (theta - reference)``.

Conventions of :func:`train_local`: models are trained in place; minibatches come from one
permutation of the local samples per epoch drawn from the caller's numpy ``Generator``
(the last minibatch of an epoch may be smaller); ``TrainResult.samples_processed`` counts
every sample that went through a forward and backward pass, so compute time is FLOPs per
sample (forward + backward) times ``samples_processed``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.training import (
    LossFn,
    TrainConfig,
    TrainResult,
    _check_data,
    _loss_fn,
    train_local,
)


def train_pfedme(
    model: nn.Module,
    personal: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    lam: float,
    personal_lr: float,
    inner_steps: int,
    task: str = "classification",
) -> TrainResult:
    """Run pFedMe's local rounds in place on the local model and the personal model.

    For each of R minibatches (R = ``cfg.steps``, or ``cfg.epochs`` passes over the data):
    ``inner_steps`` (K) gradient steps with ``personal_lr`` on the same minibatch solve
    ``min_theta f(theta; batch) + lam/2 ||theta - w||^2`` approximately, starting from the
    current ``theta``; then ``w -= cfg.lr * lam * (w - theta)``.

    Parameters
    ----------
    model
        The local model ``w``: enters as the global model received, leaves as the local
        model to upload. Only updated by the formula above (no forward pass through it).
    personal
        The personal model ``theta`` (same architecture): enters as the warm start and
        leaves as the device's personalized model, the one evaluated as PM. The official
        pFedMe code starts it from the received global model every round:
        ``set_flat(personal, get_flat(model))`` before the call.
    x, y, cfg, rng, task
        As in :func:`train_local`; ``cfg.lr`` is pFedMe's local rate ``eta``. Plain
        gradient steps only: ``cfg.optimizer`` must be ``"sgd"`` with no momentum or
        weight decay.
    lam
        The Moreau-envelope coefficient lambda (> 0).
    personal_lr
        Step size of the inner solve (> 0).
    inner_steps
        K >= 1 inner steps per minibatch.

    Returns
    -------
    TrainResult
        ``num_steps`` is R; every minibatch goes through K forward and backward passes, so
        ``samples_processed = K * (samples in the R minibatches)``. ``mean_loss`` is the
        mean data loss over all those passes.
    """
    n = _check_data(personal, x, y, task)
    _require_plain_sgd(cfg, "pFedMe")
    if not (lam > 0 and personal_lr > 0 and inner_steps >= 1):
        raise SimflError(
            f"pFedMe: lam={lam}, personal_lr={personal_lr} must be > 0 and "
            f"inner_steps={inner_steps} >= 1, e.g. lam=15, personal_lr=0.01, inner_steps=5"
        )
    w_params, theta_params = _paired_parameters(model, personal)
    loss_fn = _loss_fn(task, y)
    personal.train()
    rounds = _num_minibatches(n, cfg)
    batches = _minibatches(n, cfg.batch_size, rng)
    seen = 0
    loss_sum = 0.0
    for _ in range(rounds):
        idx = next(batches)
        for _ in range(inner_steps):
            loss_sum += _backward(personal, theta_params, loss_fn, x, y, idx) * idx.numel()
            seen += idx.numel()
            with torch.no_grad():
                for theta, w in zip(theta_params, w_params, strict=True):
                    if theta.grad is None:
                        continue
                    step = theta.grad.add(theta, alpha=lam).add_(w, alpha=-lam)
                    theta.add_(step, alpha=-personal_lr)
        with torch.no_grad():
            for theta, w in zip(theta_params, w_params, strict=True):
                w.add_(w - theta, alpha=-cfg.lr * lam)
    return TrainResult(n, rounds, seen, loss_sum / seen)


def train_perfedavg(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    outer_lr: float,
    task: str = "classification",
) -> TrainResult:
    """Run Per-FedAvg (first-order) local steps in place on ``model``.

    Each step takes two fresh minibatches: ``temp = w - cfg.lr * grad f(w; batch1)``, then
    ``w -= outer_lr * grad f(temp; batch2)`` (the gradient at the adapted point, applied to
    ``w``; the Hessian term of full MAML is dropped). ``cfg.lr`` is the paper's alpha,
    ``outer_lr`` its beta.

    Parameters
    ----------
    model, x, y, rng, task
        As in :func:`train_local`.
    cfg
        ``cfg.steps`` steps, or enough steps to consume ``cfg.epochs`` passes of
        minibatches (two per step, rounded up). Plain gradient steps only: ``"sgd"``
        without momentum or weight decay.
    outer_lr
        The meta step size beta (> 0).

    Returns
    -------
    TrainResult
        One step is two forward and backward passes, one per minibatch, so
        ``samples_processed`` is the size of both minibatches summed over the steps.
        ``mean_loss`` is the mean data loss over all passes.
    """
    n = _check_data(model, x, y, task)
    _require_plain_sgd(cfg, "Per-FedAvg")
    if not outer_lr > 0:
        raise SimflError(f"Per-FedAvg: outer_lr={outer_lr} must be > 0, e.g. 0.001")
    params = [p for p in model.parameters() if p.requires_grad]
    loss_fn = _loss_fn(task, y)
    model.train()
    steps = perfedavg_meta_steps(n, cfg)
    batches = _minibatches(n, cfg.batch_size, rng)
    seen = 0
    loss_sum = 0.0
    for _ in range(steps):
        start = [p.detach().clone() for p in params]
        idx = next(batches)
        loss_sum += _backward(model, params, loss_fn, x, y, idx) * idx.numel()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-cfg.lr)
        idx2 = next(batches)
        loss_sum += _backward(model, params, loss_fn, x, y, idx2) * idx2.numel()
        with torch.no_grad():
            for p, w in zip(params, start, strict=True):
                p.copy_(w)
                if p.grad is not None:
                    p.add_(p.grad, alpha=-outer_lr)
        seen += idx.numel() + idx2.numel()
    return TrainResult(n, steps, seen, loss_sum / seen)


def perfedavg_meta_steps(n: int, cfg: TrainConfig) -> int:
    """Return the meta steps of :func:`train_perfedavg` on ``n`` samples: ``cfg.steps``, or
    enough to consume ``cfg.epochs`` passes of minibatches, two per step (rounded up)."""
    return cfg.steps if cfg.steps is not None else -(-_num_minibatches(n, cfg) // 2)


def personalize_perfedavg(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    rng: np.random.Generator,
    task: str = "classification",
) -> TrainResult:
    """Adapt ``model`` in place by one gradient step on local training data: Per-FedAvg's PM.

    ``w - cfg.lr * grad f(w; batch)`` with one minibatch of ``cfg.batch_size`` samples
    drawn by ``rng`` (all samples when ``batch_size >= n``). Fallah et al. evaluate this
    one-step-adapted model on the device's test data. (The official pFedMe/PerMFL code
    adapts with two steps on *test* minibatches instead, which leaks test data.)

    Returns
    -------
    TrainResult
        One step, one forward and backward pass over the minibatch.
    """
    one_step = TrainConfig(optimizer="sgd", lr=cfg.lr, steps=1, batch_size=cfg.batch_size)
    return train_local(model, x, y, one_step, rng, task=task)


def _backward(
    model: nn.Module,
    params: list[nn.Parameter],
    loss_fn: LossFn,
    x: torch.Tensor,
    y: torch.Tensor,
    idx: torch.Tensor,
) -> float:
    """Set ``p.grad`` to the data-loss gradient on minibatch ``idx``; return the loss."""
    for p in params:
        p.grad = None
    loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
    loss.backward()
    return float(loss.item())


def _require_plain_sgd(cfg: TrainConfig, who: str) -> None:
    if cfg.optimizer != "sgd" or cfg.momentum or cfg.weight_decay:
        raise SimflError(
            f"{who}: its local updates are plain gradient steps; got optimizer="
            f"{cfg.optimizer!r}, momentum={cfg.momentum}, weight_decay={cfg.weight_decay}. "
            "Use optimizer 'sgd' with momentum 0 and weight_decay 0."
        )
    if cfg.loss != "mse":
        raise SimflError(f"{who}: trains on the mean squared error (regression) or "
                         f"cross-entropy; training.loss {cfg.loss!r} is not supported here, "
                         "use 'mse'")


def _paired_parameters(
    model: nn.Module, personal: nn.Module
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    w_params = [p for p in model.parameters() if p.requires_grad]
    theta_params = [p for p in personal.parameters() if p.requires_grad]
    shapes_w = [tuple(p.shape) for p in w_params]
    shapes_t = [tuple(p.shape) for p in theta_params]
    if shapes_w != shapes_t:
        raise SimflError(
            f"pFedMe: the local and personal models differ in shape ({shapes_w} vs "
            f"{shapes_t}); build both with the same model factory"
        )
    if any(a is b for a, b in zip(w_params, theta_params, strict=True)):
        raise SimflError("pFedMe: pass two distinct model instances as model and personal")
    return w_params, theta_params


def _num_minibatches(n: int, cfg: TrainConfig) -> int:
    if cfg.steps is not None:
        return cfg.steps
    return -(-n // cfg.batch_size) * int(cfg.epochs or 1)


def _minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[torch.Tensor]:
    """Yield index minibatches forever: one ``rng.permutation(n)`` per epoch, in order."""
    while True:
        perm = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, batch_size):
            yield perm[start : start + batch_size]
