"""The personalized baselines' local updates as registered training-job procedures.

A training job (:mod:`simfl.engine.jobs`) calls its procedure as
``fn(model, x, y, cfg, rng, task=..., prox=..., **options)`` and prices it before it runs as
``planned_samples(n, cfg) * FLOPs per sample * passes_per_sample``. Each wrapper here makes the
procedure report exactly the planned samples and registers the passes that make its FLOPs
honest:

- ``pfedme/K=<K>`` (Dinh et al., NeurIPS 2020): a :class:`~simfl.learning.paired.PairedModel`
  (local model ``w``, personal model ``theta``); every minibatch goes through K forward and
  backward passes of the inner solve, so ``passes_per_sample = K``.
- ``ditto`` (Li et al., ICML 2021): a paired model (the global model's local update, the
  personal model ``v``); both take ``cfg``'s minibatches, so ``passes_per_sample = 2``.
- ``perfedavg`` (Fallah et al., NeurIPS 2020, first order): one step takes two minibatches
  (two gradients), so a job of ``2 * tau`` minibatches runs ``tau`` steps; every sample is
  one pass.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from simfl.engine.jobs import register_procedure
from simfl.errors import SimflError
from simfl.learning.paired import PairedModel
from simfl.learning.params import get_flat
from simfl.learning.personal_training import train_perfedavg, train_pfedme
from simfl.learning.training import TrainConfig, TrainResult, train_local

DITTO = "ditto"
PERFEDAVG = "perfedavg"


def pfedme_procedure_name(inner_steps: int) -> str:
    """Return the registered name of pFedMe's procedure with ``inner_steps`` (K), registering it.

    Its ``passes_per_sample`` is K: each minibatch is passed K times through the personal model.
    """
    name = f"pfedme/K={inner_steps}"
    register_procedure(name, pfedme_procedure, passes_per_sample=float(inner_steps))
    return name


def register_personal_procedures() -> None:
    """Register ``ditto`` and ``perfedavg`` (``pfedme/K=..`` is registered per K on demand)."""
    register_procedure(DITTO, ditto_procedure, passes_per_sample=2.0)
    register_procedure(PERFEDAVG, perfedavg_procedure, passes_per_sample=1.0)


def pfedme_procedure(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
    rng: np.random.Generator, *, task: str = "classification",
    prox: tuple[torch.Tensor, float] | None = None,
    lam: float, inner_lr: float, inner_steps: int,
) -> TrainResult:
    """Run pFedMe's local rounds on a paired model (``first`` = w, ``second`` = theta).

    See :func:`simfl.learning.personal_training.train_pfedme`. Returns its result with
    ``samples_processed`` per pass (the job's FLOPs multiply it by K).
    """
    pair = _paired(model, "pfedme", prox)
    result = train_pfedme(pair.first, pair.second, x, y, cfg, rng, lam=lam,
                          personal_lr=inner_lr, inner_steps=inner_steps, task=task)
    return replace(result, samples_processed=result.samples_processed // inner_steps)


def ditto_procedure(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
    rng: np.random.Generator, *, task: str = "classification",
    prox: tuple[torch.Tensor, float] | None = None,
    lam: float, personal_lr: float,
) -> TrainResult:
    """Run Ditto's device update on a paired model (``first`` = global copy, ``second`` = v).

    ``first`` enters as the received global model ``w^t`` and takes ``cfg``'s minibatch steps
    of plain local training (the update sent back). ``second`` enters as the device's personal
    model ``v`` and takes as many steps with ``personal_lr`` on
    ``f(v) + lam/2 ||v - w^t||^2`` (the reference is the received ``w^t``, not the updated
    copy: Algorithm 1 of Li et al.). The two models are distinct tensors, and every step
    starts from zeroed gradients: the official PerMFL repository's Ditto does neither.

    Returns
    -------
    TrainResult
        The global copy's steps and samples (the job counts two passes per sample) and its
        mean data loss.
    """
    pair = _paired(model, "ditto", prox)
    if not (lam >= 0 and personal_lr > 0):
        raise SimflError(f"Ditto: lam={lam} must be >= 0 and personal_lr={personal_lr} > 0")
    received = get_flat(pair.first)
    result = train_local(pair.first, x, y, cfg, rng, task=task)
    train_local(pair.second, x, y, replace(cfg, lr=personal_lr), rng, task=task,
                prox=(received, lam))
    return result


def perfedavg_procedure(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
    rng: np.random.Generator, *, task: str = "classification",
    prox: tuple[torch.Tensor, float] | None = None,
    meta_lr: float,
) -> TrainResult:
    """Run ``cfg.steps / 2`` Per-FedAvg (FO) steps: each takes two of the job's minibatches.

    See :func:`simfl.learning.personal_training.train_perfedavg`; ``cfg.lr`` is the inner
    step alpha, ``meta_lr`` the outer step beta.
    """
    if prox is not None:
        raise SimflError("perfedavg: the procedure has no proximal term; submit prox=None")
    if cfg.steps is None or cfg.steps % 2:
        raise SimflError(f"perfedavg: a job must plan an even number of minibatches (two per "
                         f"step); got steps={cfg.steps}")
    return train_perfedavg(model, x, y, replace(cfg, steps=cfg.steps // 2), rng,
                           outer_lr=meta_lr, task=task)


def _paired(model: nn.Module, who: str,
            prox: tuple[torch.Tensor, float] | None) -> PairedModel:
    if not isinstance(model, PairedModel):
        raise SimflError(f"{who}: the job's model must be a PairedModel (submit it with the "
                         f"paired ModelSpec); got {type(model).__name__}")
    if prox is not None:
        raise SimflError(f"{who}: the procedure sets its own proximal term; submit prox=None")
    return model
