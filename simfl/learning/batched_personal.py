"""Personalized FL device updates for many devices as one stacked computation.

:func:`train_pfedme_batched` runs :func:`simfl.learning.personal_training.train_pfedme` for
many devices of one architecture together: the local models ``w`` and the personal models
``theta`` are stacked along a client axis; for each minibatch, the ``K`` inner steps on
``theta`` are ``K`` stacked forward/backward passes, then every ``w`` moves towards its
``theta``. Each device draws its minibatches from its own stream exactly as the sequential
procedure does, so the results equal the sequential ones up to floating-point rounding.
:func:`train_perfedavg_batched` does the same for
:func:`simfl.learning.personal_training.train_perfedavg` (Per-FedAvg, first order): each
meta step is a stacked pass on the first minibatch at ``w`` and one on the second at the
adapted point. Architectures without a stacked form run the sequential procedures, device
by device.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.batched_models import StackedModel, stacked_form
from simfl.learning.batched_training import (
    MAX_ACTIVATION_FLOATS,
    BatchJob,
    PassBatch,
    check_jobs,
    groups_of,
    stack_data,
)
from simfl.learning.minibatch_schedule import draw_minibatches, total_steps
from simfl.learning.params import get_flat, set_flat
from simfl.learning.personal_training import (
    _require_plain_sgd,
    perfedavg_meta_steps,
    train_perfedavg,
    train_pfedme,
)
from simfl.learning.training import TrainConfig, TrainResult, _check_data


@dataclass(frozen=True)
class PFedMeJob:
    """One device's pFedMe update: the arguments of ``train_pfedme``, flat.

    Attributes
    ----------
    w, theta
        Flat parameters ``(P,)`` of the local model and of the personal model.
    x, y, cfg, rng
        The device's data, its local work (plain SGD: ``cfg.lr`` is eta) and its stream.
    lam, personal_lr, inner_steps
        The Moreau-envelope coefficient, the inner step size and K.
    """

    w: torch.Tensor
    theta: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    cfg: TrainConfig
    rng: np.random.Generator
    lam: float
    personal_lr: float
    inner_steps: int


def train_pfedme_batched(
    model: nn.Module,
    jobs: Sequence[PFedMeJob],
    task: str = "classification",
    max_activation_floats: int = MAX_ACTIVATION_FLOATS,
) -> list[tuple[torch.Tensor, torch.Tensor, TrainResult]]:
    """Run every job's pFedMe update; return per job (trained w, trained theta, result).

    ``model`` is the architecture of one of the two models (left untouched). The results
    are those of ``train_pfedme`` on each job (``samples_processed`` counts the K passes).
    """
    if not jobs:
        return []
    _check_data(model, jobs[0].x, jobs[0].y, task)
    total = get_flat(model).numel()
    check_jobs(model, [BatchJob(j.w, j.x, j.y, j.cfg, j.rng) for j in jobs], task, total)
    check_jobs(model, [BatchJob(j.theta, j.x, j.y, j.cfg, j.rng) for j in jobs], task, total)
    for j in jobs:
        _check_job(j)
    form = stacked_form(model, tuple(jobs[0].x.shape[1:]))
    if form is None:
        return [_sequential(model, j, task) for j in jobs]
    sizes = [j.y.shape[0] for j in jobs]
    steps = [total_steps(n, j.cfg.batch_size, j.cfg.epochs, j.cfg.steps)
             for j, n in zip(jobs, sizes, strict=True)]
    drawn = [draw_minibatches(n, j.cfg.batch_size, s, j.rng)  # in job order, as sequentially
             for j, n, s in zip(jobs, sizes, steps, strict=True)]
    keys = [(j.cfg.lr, j.lam, j.personal_lr, j.inner_steps) for j in jobs]
    out: list[tuple[torch.Tensor, torch.Tensor, TrainResult] | None] = [None] * len(jobs)
    for members in groups_of(keys, [j.cfg.batch_size for j in jobs], sizes, steps, form,
                             max_activation_floats):
        for i, result in zip(members, _train_group(form, [jobs[i] for i in members],
                                                   [drawn[i] for i in members], task),
                             strict=True):
            out[i] = result
    return [r for r in out if r is not None]


def _train_group(form: StackedModel, jobs: list[PFedMeJob], drawn: list[np.ndarray],
                 task: str) -> list[tuple[torch.Tensor, torch.Tensor, TrainResult]]:
    """Train devices with equal settings, ordered by steps descending, as one batch."""
    sizes_n = [j.y.shape[0] for j in jobs]
    sched, x_all, y_all = stack_data([j.x for j in jobs], [j.y for j in jobs], drawn)
    w_flat = torch.stack([j.w for j in jobs]).to(torch.float32)  # trained in place
    theta_flat = torch.stack([j.theta for j in jobs]).to(torch.float32)
    w_params, theta_params = form.split(w_flat), form.split(theta_flat)
    first_job = jobs[0]
    lam, personal_lr, eta = first_job.lam, first_job.personal_lr, first_job.cfg.lr
    # train_local's MSE averages over samples and outputs
    scale = 1.0 if task == "classification" or y_all.ndim == 1 else 1.0 / y_all.shape[1]
    loss_sums = torch.zeros(len(jobs), dtype=torch.float64)
    for s, passes in enumerate(sched.passes):
        for first, end, b in passes:
            batch = PassBatch.of(sched, s, first, end, b, x_all, y_all)
            size = torch.from_numpy(sched.sizes[s, first:end]).to(torch.float64)
            w = [p[first:end] for p in w_params]
            for _ in range(first_job.inner_steps):
                theta = [p[first:end].requires_grad_() for p in theta_params]
                per_client = batch.losses(form, theta, task, scale)
                grads = list(torch.autograd.grad(per_client.sum(), theta))
                with torch.no_grad():
                    # theta -= personal_lr * (grad + lam * theta - lam * w)
                    torch._foreach_add_(grads, theta, alpha=lam)
                    torch._foreach_add_(grads, w, alpha=-lam)
                    torch._foreach_add_(theta, grads, alpha=-personal_lr)
                    loss_sums[first:end] += per_client.detach().to(torch.float64) * size
            with torch.no_grad():
                # w -= eta * lam * (w - theta)
                pull = list(torch._foreach_sub([p.detach() for p in w],
                                               [p[first:end] for p in theta_params]))
                torch._foreach_add_(w, pull, alpha=-eta * lam)
    steps = (sched.sizes > 0).sum(axis=0).tolist()
    seen = (sched.sizes.sum(axis=0) * first_job.inner_steps).tolist()
    return [
        (w_flat[c], theta_flat[c],
         TrainResult(n, steps[c], seen[c], float(loss_sums[c]) / seen[c]))
        for c, n in enumerate(sizes_n)
    ]


def _check_job(job: PFedMeJob) -> None:
    _require_plain_sgd(job.cfg, "pFedMe")
    if not (job.lam > 0 and job.personal_lr > 0 and job.inner_steps >= 1):
        raise SimflError(
            f"pFedMe: lam={job.lam}, personal_lr={job.personal_lr} must be > 0 and "
            f"inner_steps={job.inner_steps} >= 1, e.g. lam=15, personal_lr=0.01, inner_steps=5")
    if job.w.shape != job.theta.shape or job.w.ndim != 1:
        raise SimflError(f"pFedMe: w {tuple(job.w.shape)} and theta {tuple(job.theta.shape)} "
                         "must be flat states of one architecture")


def _sequential(model: nn.Module, job: PFedMeJob,
                task: str) -> tuple[torch.Tensor, torch.Tensor, TrainResult]:
    """Return ``train_pfedme``'s outcome for one job, on copies of ``model``."""
    local, personal = copy.deepcopy(model), copy.deepcopy(model)
    set_flat(local, job.w)
    set_flat(personal, job.theta)
    result = train_pfedme(local, personal, job.x, job.y, job.cfg, job.rng, lam=job.lam,
                          personal_lr=job.personal_lr, inner_steps=job.inner_steps, task=task)
    return get_flat(local), get_flat(personal), result


def train_perfedavg_batched(
    model: nn.Module,
    jobs: Sequence[BatchJob],
    outer_lr: float,
    task: str = "classification",
    max_activation_floats: int = MAX_ACTIVATION_FLOATS,
) -> list[tuple[torch.Tensor, TrainResult]]:
    """Run ``train_perfedavg`` for every job (``start`` is w; no prox, no steps override);
    return per job the trained flat ``w`` and the result. ``cfg.lr`` is alpha, ``outer_lr``
    beta (shared)."""
    if not jobs:
        return []
    _check_data(model, jobs[0].x, jobs[0].y, task)
    check_jobs(model, jobs, task, get_flat(model).numel())
    for j in jobs:
        _require_plain_sgd(j.cfg, "Per-FedAvg")
    if not outer_lr > 0:
        raise SimflError(f"Per-FedAvg: outer_lr={outer_lr} must be > 0, e.g. 0.001")
    form = stacked_form(model, tuple(jobs[0].x.shape[1:]))
    if form is None:
        out = []
        for j in jobs:
            local = copy.deepcopy(model)
            set_flat(local, j.start)
            result = train_perfedavg(local, j.x, j.y, j.cfg, j.rng, outer_lr=outer_lr,
                                     task=task)
            out.append((get_flat(local), result))
        return out
    sizes = [j.y.shape[0] for j in jobs]
    minibatches = [2 * perfedavg_meta_steps(n, j.cfg) for j, n in zip(jobs, sizes, strict=True)]
    drawn = [draw_minibatches(n, j.cfg.batch_size, m, j.rng)  # two per meta step, in order
             for j, n, m in zip(jobs, sizes, minibatches, strict=True)]
    results: list[tuple[torch.Tensor, TrainResult] | None] = [None] * len(jobs)
    for members in groups_of([j.cfg.lr for j in jobs], [j.cfg.batch_size for j in jobs], sizes,
                             minibatches, form, max_activation_floats):
        trained = _perfedavg_group(form, [jobs[i] for i in members],
                                   [drawn[i] for i in members], outer_lr, task)
        for i, done in zip(members, trained, strict=True):
            results[i] = done
    return [r for r in results if r is not None]


def _perfedavg_group(form: StackedModel, jobs: list[BatchJob], drawn: list[np.ndarray],
                     outer_lr: float, task: str) -> list[tuple[torch.Tensor, TrainResult]]:
    """Train devices with equal alpha, ordered by steps descending, as one batch."""
    sizes_n = [j.y.shape[0] for j in jobs]
    sched, x_all, y_all = stack_data([j.x for j in jobs], [j.y for j in jobs], drawn)
    w_flat = torch.stack([j.start for j in jobs]).to(torch.float32)  # trained in place
    temp_flat = w_flat.clone()  # the adapted points
    w_params, temp_params = form.split(w_flat), form.split(temp_flat)
    alpha = jobs[0].cfg.lr
    scale = 1.0 if task == "classification" or y_all.ndim == 1 else 1.0 / y_all.shape[1]
    loss_sums = torch.zeros(len(jobs), dtype=torch.float64)
    for s, passes in enumerate(sched.passes):
        adapt = s % 2 == 0  # first minibatch of a meta step: adapt; second: meta update
        for first, end, b in passes:
            batch = PassBatch.of(sched, s, first, end, b, x_all, y_all)
            size = torch.from_numpy(sched.sizes[s, first:end]).to(torch.float64)
            at = w_params if adapt else temp_params
            live = [p[first:end].requires_grad_() for p in at]
            per_client = batch.losses(form, live, task, scale)
            grads = list(torch.autograd.grad(per_client.sum(), live))
            with torch.no_grad():
                loss_sums[first:end] += per_client.detach().to(torch.float64) * size
                if adapt:  # temp = w - alpha * grad f(w; batch 1)
                    temp = [p[first:end] for p in temp_params]
                    torch._foreach_copy_(temp, [p[first:end] for p in w_params])
                    torch._foreach_add_(temp, grads, alpha=-alpha)
                else:  # w -= beta * grad f(temp; batch 2)
                    torch._foreach_add_([p[first:end] for p in w_params], grads,
                                        alpha=-outer_lr)
    meta_steps = ((sched.sizes > 0).sum(axis=0) // 2).tolist()
    seen = sched.sizes.sum(axis=0).tolist()
    return [(w_flat[c], TrainResult(n, meta_steps[c], seen[c], float(loss_sums[c]) / seen[c]))
            for c, n in enumerate(sizes_n)]
