"""Tests of simfl.learning.batched_personal: batched == sequential train_pfedme."""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np
import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.batched_personal import PFedMeJob, train_pfedme_batched
from simfl.learning.builtin import load_digits
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, set_flat
from simfl.learning.personal_training import train_pfedme
from simfl.learning.training import TrainConfig

#: Batched vs sequential parameters (float32 rounding of differently ordered sums).
ATOL = 1e-5
SIZES = (37, 5, 64, 1, 20)  # unequal shards, one smaller than any batch


def _jobs(kind: str, shape: tuple[int, ...], cfgs: list[TrainConfig], lam: float = 15.0,
          personal_lr: float = 0.05, inner_steps: int = 3) -> tuple[torch.nn.Module,
                                                                     list[PFedMeJob]]:
    data = load_digits(image=True)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    model = build_model(kind, shape, 10, hidden=(8,) if kind != "cnn" else (4, 8), seed=0)
    w = get_flat(model)
    ends = np.cumsum((0, *SIZES))
    jobs = [PFedMeJob(w + 0.01 * i, w - 0.01 * i, x[a:b].reshape(b - a, *shape), y[a:b],
                      cfgs[i % len(cfgs)], np.random.default_rng(i), lam, personal_lr,
                      inner_steps)
            for i, (a, b) in enumerate(itertools.pairwise(ends))]
    return model, jobs


def _sequential(model: torch.nn.Module, job: PFedMeJob):  # type: ignore[no-untyped-def]
    local, personal = copy.deepcopy(model), copy.deepcopy(model)
    set_flat(local, job.w)
    set_flat(personal, job.theta)
    result = train_pfedme(local, personal, job.x, job.y, job.cfg, copy.deepcopy(job.rng),
                          lam=job.lam, personal_lr=job.personal_lr,
                          inner_steps=job.inner_steps)
    return get_flat(local), get_flat(personal), result


@pytest.mark.parametrize(("kind", "shape"), [("mlp", (64,)), ("cnn", (1, 8, 8))])
def test_batched_pfedme_equals_the_sequential_procedure(kind: str,
                                                        shape: tuple[int, ...]) -> None:
    cfgs = [TrainConfig(lr=0.05, epochs=2, batch_size=16),
            TrainConfig(lr=0.05, steps=3, epochs=None, batch_size=16)]
    model, jobs = _jobs(kind, shape, cfgs)
    expected = [_sequential(model, j) for j in jobs]
    got = train_pfedme_batched(model, jobs)
    for (w, theta, res), (w_ref, theta_ref, ref) in zip(got, expected, strict=True):
        assert torch.allclose(w, w_ref, atol=ATOL, rtol=0)
        assert torch.allclose(theta, theta_ref, atol=ATOL, rtol=0)
        assert (res.num_samples, res.num_steps, res.samples_processed) == (
            ref.num_samples, ref.num_steps, ref.samples_processed)
        assert res.mean_loss == pytest.approx(ref.mean_loss, rel=1e-5)


def test_devices_with_other_settings_train_apart_and_streams_advance_as_sequentially() -> None:
    cfgs = [TrainConfig(lr=0.05, epochs=1, batch_size=8), TrainConfig(lr=0.1, batch_size=8)]
    model, jobs = _jobs("mlp", (64,), cfgs)
    jobs[2] = dataclasses.replace(jobs[2], inner_steps=1, lam=5.0)
    expected = [_sequential(model, j) for j in jobs]
    twins = [copy.deepcopy(j.rng) for j in jobs]
    for j, twin in zip(jobs, twins, strict=True):  # as _sequential drew from its copies
        train_pfedme(copy.deepcopy(model), copy.deepcopy(model), j.x, j.y, j.cfg, twin,
                     lam=j.lam, personal_lr=j.personal_lr, inner_steps=j.inner_steps)
    got = train_pfedme_batched(model, jobs, max_activation_floats=1)  # one device per pass
    for (w, theta, _), (w_ref, theta_ref, _) in zip(got, expected, strict=True):
        assert torch.allclose(w, w_ref, atol=ATOL, rtol=0)
        assert torch.allclose(theta, theta_ref, atol=ATOL, rtol=0)
    for j, twin in zip(jobs, twins, strict=True):
        assert j.rng.integers(1 << 30) == twin.integers(1 << 30)


def test_an_uncovered_model_runs_the_sequential_procedure() -> None:
    model = build_model("resnet8", (1, 8, 8), 10, hidden=(4,), seed=0)
    data = load_digits(image=True)
    x, y = torch.from_numpy(data.x[:20]).reshape(20, 1, 8, 8), torch.from_numpy(data.y[:20])
    w = get_flat(model)
    job = PFedMeJob(w, w.clone(), x, y, TrainConfig(lr=0.05, steps=2, epochs=None,
                                                     batch_size=8),
                    np.random.default_rng(0), 15.0, 0.05, 2)
    [(w_got, _, res)] = train_pfedme_batched(model, [job])
    w_ref, _, ref = _sequential(model, dataclasses.replace(job, rng=np.random.default_rng(0)))
    assert torch.equal(w_got, w_ref) and res == ref


def test_momentum_and_bad_coefficients_are_refused() -> None:
    model, jobs = _jobs("mlp", (64,), [TrainConfig(lr=0.05, momentum=0.9)])
    with pytest.raises(SimflError, match=r"plain gradient steps; got optimizer='sgd', "
                                          r"momentum=0.9"):
        train_pfedme_batched(model, jobs)
    model, jobs = _jobs("mlp", (64,), [TrainConfig(lr=0.05)], lam=0.0)
    with pytest.raises(SimflError, match=r"lam=0.0, personal_lr=0.05 must be > 0"):
        train_pfedme_batched(model, jobs)


@pytest.mark.parametrize(("kind", "shape"), [("mlp", (64,)), ("cnn", (1, 8, 8))])
def test_batched_perfedavg_equals_the_sequential_procedure(kind: str,
                                                           shape: tuple[int, ...]) -> None:
    from simfl.learning.batched_personal import train_perfedavg_batched
    from simfl.learning.batched_training import BatchJob
    from simfl.learning.personal_training import train_perfedavg

    cfgs = [TrainConfig(lr=0.05, steps=4, epochs=None, batch_size=16),
            TrainConfig(lr=0.05, epochs=1, batch_size=8),
            TrainConfig(lr=0.02, steps=2, epochs=None, batch_size=16)]
    model, pfedme_jobs = _jobs(kind, shape, cfgs)
    jobs = [BatchJob(j.w, j.x, j.y, j.cfg, j.rng) for j in pfedme_jobs]
    expected = []
    for job in jobs:
        local = copy.deepcopy(model)
        set_flat(local, job.start)
        result = train_perfedavg(local, job.x, job.y, job.cfg, copy.deepcopy(job.rng),
                                 outer_lr=0.03)
        expected.append((get_flat(local), result))
    got = train_perfedavg_batched(model, jobs, outer_lr=0.03, max_activation_floats=2**12)
    for (w, res), (w_ref, ref) in zip(got, expected, strict=True):
        assert torch.allclose(w, w_ref, atol=ATOL, rtol=0)
        assert (res.num_samples, res.num_steps, res.samples_processed) == (
            ref.num_samples, ref.num_steps, ref.samples_processed)
        assert res.mean_loss == pytest.approx(ref.mean_loss, rel=1e-5)
