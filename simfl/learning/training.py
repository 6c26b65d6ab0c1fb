"""Local training and evaluation on in-memory tensors: the hot path of every simulation.

``train_local`` runs minibatch SGD, Adam or RMSprop in place on a model, shuffling with the caller's
numpy ``Generator`` and slicing the tensors directly (no DataLoader). With the same initial
model, data and rng state it produces bitwise identical parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.minibatch_schedule import total_steps

OPTIMIZERS = ("sgd", "adam", "rmsprop")
TASKS = ("classification", "regression")
LOSSES = ("mse", "rmse")


@dataclass(frozen=True)
class TrainConfig:
    """How a client trains locally.

    Parameters
    ----------
    optimizer
        ``"sgd"``, ``"adam"`` or ``"rmsprop"`` (PyTorch's defaults: alpha 0.99, eps 1e-8);
        its state starts fresh at every :func:`train_local` call.
    lr, momentum, weight_decay
        Optimizer settings (``momentum`` only for SGD).
    epochs
        Passes over the local data; used when ``steps`` is None.
    steps
        Number of minibatches; when given it takes precedence over ``epochs``, cycling
        through freshly shuffled epochs.
    batch_size
        Samples per minibatch; the last minibatch of an epoch may be smaller.
    loss
        Regression loss: ``"mse"`` or ``"rmse"`` (its square root, as SGFusion's code
        trains); classification always uses cross-entropy.
    """

    optimizer: Literal["sgd", "adam", "rmsprop"] = "sgd"
    lr: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 0.0
    epochs: int | None = 1
    steps: int | None = None
    batch_size: int = 32
    loss: Literal["mse", "rmse"] = "mse"

    def __post_init__(self) -> None:
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r} is unknown; use one of {OPTIMIZERS}")
        if not self.lr > 0:
            problems.append(f"lr={self.lr} must be > 0, e.g. 0.05 for SGD or 1e-3 for Adam")
        if self.momentum < 0 or self.weight_decay < 0:
            problems.append(
                f"momentum={self.momentum}, weight_decay={self.weight_decay} must be >= 0"
            )
        if self.steps is None and self.epochs is None:
            problems.append("epochs and steps are both None; set one, e.g. epochs=1 or steps=10")
        if self.steps is not None and self.steps < 1:
            problems.append(f"steps={self.steps} must be >= 1 (or None to train by epochs)")
        if self.steps is None and self.epochs is not None and self.epochs < 1:
            problems.append(f"epochs={self.epochs} must be >= 1")
        if self.batch_size < 1:
            problems.append(f"batch_size={self.batch_size} must be >= 1")
        if self.loss not in LOSSES:
            problems.append(f"loss {self.loss!r} is unknown; use one of {LOSSES}")
        if problems:
            raise SimflError([f"TrainConfig: {p}" for p in problems])


@dataclass(frozen=True)
class TrainResult:
    """What one local update did: data size, minibatches, samples seen, mean data loss."""

    num_samples: int
    num_steps: int
    samples_processed: int
    mean_loss: float


def planned_samples(num_samples: int, cfg: TrainConfig) -> int:
    """Return how many samples :func:`train_local` processes on ``num_samples`` local samples.

    Known before training: full minibatches of ``cfg.batch_size`` except the last of each
    epoch, for ``cfg.steps`` minibatches or ``cfg.epochs`` epochs. This is what a client's
    compute time is made of (samples x training FLOPs per sample).
    """
    n, bs = int(num_samples), cfg.batch_size
    if n <= 0:
        return 0
    per_epoch = -(-n // bs)
    if cfg.steps is None:
        return n * int(cfg.epochs or 1)
    full_epochs, rest = divmod(cfg.steps, per_epoch)
    return full_epochs * n + min(rest * bs, n)


def train_local(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    rng: np.random.Generator,
    task: str = "classification",
    prox: tuple[torch.Tensor, float] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``(x, y)`` and return what was done.

    Parameters
    ----------
    model
        Trained in place; left in train mode.
    x, y
        Features ``(n, *feature_shape)`` float32; labels ``(n,)`` int64 (classification) or
        float targets ``(n,)`` / ``(n, outputs)`` (regression).
    cfg
        Optimizer, learning rate, epochs or steps, batch size.
    rng
        Shuffles the samples (one permutation per epoch).
    task
        ``"classification"`` (cross-entropy) or ``"regression"`` (mean squared error, or
        its root with ``cfg.loss == "rmse"``).
    prox
        ``(w_ref, mu)``: adds ``mu/2 * ||w - w_ref||^2`` to the objective (FedProx's proximal
        term, PerMFL's lambda term), with ``w_ref`` a flat vector as from ``get_flat``. Its
        gradient is added directly; ``mean_loss`` reports the data loss only.

    Returns
    -------
    TrainResult
        ``mean_loss`` is the sample-weighted mean of the minibatch losses seen while training.
    """
    n = _check_data(model, x, y, task)
    loss_fn = _loss_fn(task, y)
    if task == "regression" and cfg.loss == "rmse":
        loss_fn = _root(loss_fn)
    all_params = list(model.parameters())
    params = [p for p in all_params if p.requires_grad]
    refs = _prox_refs(all_params, prox)
    mu = float(prox[1]) if prox is not None else 0.0
    library: torch.optim.Optimizer | None = None
    if cfg.optimizer == "adam":
        library = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    elif cfg.optimizer == "rmsprop":
        library = torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    momentum_bufs: list[torch.Tensor | None] = [None] * len(params)

    bs = cfg.batch_size
    steps_to_run = total_steps(n, bs, cfg.epochs, cfg.steps)
    if not model.training:
        model.train()
    steps = 0
    seen = 0
    loss_sum = 0.0
    while steps < steps_to_run:
        perm = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, bs):
            if steps == steps_to_run:
                break
            idx = perm[start : start + bs]
            for p in params:
                p.grad = None
            loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            with torch.no_grad():
                if refs is not None:
                    for p, r in zip(all_params, refs, strict=True):
                        if p.grad is not None:
                            p.grad.add_(p, alpha=mu).add_(r, alpha=-mu)
                if library is not None:
                    library.step()
                else:
                    _sgd_step(params, momentum_bufs, cfg)
            size = idx.numel()
            loss_sum += loss.item() * size
            seen += size
            steps += 1
    return TrainResult(n, steps, seen, loss_sum / seen)


def _sgd_step(
    params: list[nn.Parameter], bufs: list[torch.Tensor | None], cfg: TrainConfig
) -> None:
    """Apply one step of ``torch.optim.SGD``'s update (no dampening, no Nesterov) in place.

    Written out because the library optimizer's per-call bookkeeping costs more than the
    arithmetic for the small models and single minibatches typical of FL clients.
    """
    for i, p in enumerate(params):
        grad = p.grad
        if grad is None:
            continue
        if cfg.weight_decay:
            grad = grad.add(p, alpha=cfg.weight_decay)
        if cfg.momentum:
            buf = bufs[i]
            if buf is None:
                buf = bufs[i] = grad.clone()
            else:
                buf.mul_(cfg.momentum).add_(grad)
            grad = buf
        p.add_(grad, alpha=-cfg.lr)


@dataclass(frozen=True)
class EvalTotals:
    """Sums over evaluated samples, so that several models' test sets pool exactly.

    ``loss_sum`` is the summed cross-entropy (classification) or squared error (regression);
    ``targets`` counts regression outputs (samples x outputs). Add totals with ``+``.
    """

    task: str
    loss_sum: float = 0.0
    correct: int = 0
    samples: int = 0
    targets: int = 0

    def __add__(self, other: EvalTotals) -> EvalTotals:
        if other.task != self.task:
            raise SimflError(f"cannot pool {self.task} and {other.task} evaluations")
        return EvalTotals(self.task, self.loss_sum + other.loss_sum,
                          self.correct + other.correct, self.samples + other.samples,
                          self.targets + other.targets)

    def metrics(self) -> dict[str, float]:
        """Return ``{"accuracy", "loss"}`` or ``{"rmse", "loss"}`` of the pooled samples."""
        if self.samples == 0:
            raise SimflError("no test samples were evaluated; give clients test data")
        if self.task == "classification":
            return {"accuracy": self.correct / self.samples, "loss": self.loss_sum / self.samples}
        mse = self.loss_sum / self.targets
        return {"rmse": float(np.sqrt(mse)), "loss": mse}


def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str = "classification",
    batch_size: int = 1024,
) -> dict[str, float]:
    """Return ``{"accuracy", "loss"}`` (classification) or ``{"rmse", "loss"}`` (regression).

    ``loss`` is the mean cross-entropy or mean squared error over all samples; accuracy is a
    fraction in [0, 1]. The model's train/eval mode is restored afterwards.
    """
    return evaluation_totals(model, x, y, task, batch_size).metrics()


def evaluation_totals(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str = "classification",
    batch_size: int = 1024,
) -> EvalTotals:
    """Return the summed loss, correct predictions and counts of ``model`` on ``(x, y)``."""
    n = _check_data(model, x, y, task)
    if batch_size < 1:
        raise SimflError(f"evaluate: batch_size={batch_size} must be >= 1")
    loss_fn = _loss_fn(task, y, reduction="sum")
    was_training = model.training
    model.eval()
    loss_sum = 0.0
    correct = 0
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                out = model(xb)
                loss_sum += float(loss_fn(out, yb))
                if task == "classification":
                    correct += int((out.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    outputs = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
    return EvalTotals(task, loss_sum, correct, n, n * outputs)


def _check_data(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> int:
    if task not in TASKS:
        raise SimflError(f"task {task!r} is unknown; use one of {TASKS}")
    first = next(model.parameters(), None)
    if first is not None and x.dtype != first.dtype:
        raise SimflError(
            f"features have dtype {x.dtype} but the model's parameters are {first.dtype}; "
            f"convert them with x.to({first.dtype})"
        )
    if x.shape[0] != y.shape[0]:
        raise SimflError(
            f"x has {x.shape[0]} samples but y has {y.shape[0]}; pass matching tensors"
        )
    if x.shape[0] == 0:
        raise SimflError("no samples to train or evaluate on; give every client >= 1 sample")
    if task == "classification" and y.dtype != torch.int64:
        raise SimflError(
            f"classification labels have dtype {y.dtype}; convert them with "
            "torch.as_tensor(labels, dtype=torch.int64)"
        )
    if task == "regression" and not y.is_floating_point():
        raise SimflError(f"regression targets have dtype {y.dtype}; use float32")
    return int(x.shape[0])


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _loss_fn(task: str, y: torch.Tensor, reduction: str = "mean") -> LossFn:
    if task == "classification":
        return lambda out, yb: nn.functional.cross_entropy(out, yb, reduction=reduction)
    if y.ndim == 1:
        return lambda out, yb: nn.functional.mse_loss(out.squeeze(-1), yb, reduction=reduction)
    return lambda out, yb: nn.functional.mse_loss(out, yb, reduction=reduction)


def _root(loss_fn: LossFn) -> LossFn:
    """Return the square root of a mean squared error (the RMSE loss)."""
    return lambda out, yb: torch.sqrt(loss_fn(out, yb))


def _prox_refs(
    params: list[nn.Parameter], prox: tuple[torch.Tensor, float] | None
) -> list[torch.Tensor] | None:
    if prox is None:
        return None
    ref, mu = prox
    if mu < 0:
        raise SimflError(f"prox: mu={mu} must be >= 0 (0 disables the proximal term)")
    total = sum(p.numel() for p in params)
    if ref.ndim != 1 or ref.numel() < total:
        raise SimflError(
            f"prox: reference vector of shape {tuple(ref.shape)} does not fit a model with "
            f"{total} parameters; pass get_flat(reference_model) of the same architecture"
        )
    # get_flat puts parameters first (then buffers): the prefix is the parameter vector
    refs, offset = [], 0
    for p in params:
        refs.append(ref[offset : offset + p.numel()].view_as(p).to(p.dtype))
        offset += p.numel()
    return refs
