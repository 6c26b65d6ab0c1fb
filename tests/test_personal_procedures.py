"""Tests of the personalized procedures as training jobs: hand computations on a quadratic,
planned samples and honest FLOPs.

The model is a 2-parameter linear map on the unit vectors with targets t and MSE over both
samples: f(w) = ||w - t||^2 / 2 and grad f(w) = w - t (full batch).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import torch
from torch import nn

from simfl.engine.jobs import ModelSpec, SequentialExecutor, TrainingJob
from simfl.engine.simulation import Simulation
from simfl.errors import SimflError
from simfl.learning.client_data import ClientData
from simfl.learning.paired import PairedModel, pack_pair, unpack_pair
from simfl.learning.params import get_flat, set_flat
from simfl.learning.personal_procedures import (
    DITTO,
    PERFEDAVG,
    ditto_procedure,
    perfedavg_procedure,
    pfedme_procedure,
    pfedme_procedure_name,
    register_personal_procedures,
)
from tests.test_personal_training import FEATURES, TARGETS, TOL, W0, full_batch

V0 = torch.tensor([0.0, 1.0])
FLOPS_PER_SAMPLE = 10.0


def linear() -> nn.Module:
    return nn.Linear(2, 1, bias=False)


def pair(first: torch.Tensor, second: torch.Tensor) -> PairedModel:
    model = PairedModel(linear(), linear())
    set_flat(model, pack_pair(first, second, 2))
    return model


def executor() -> SequentialExecutor:
    client = ClientData("client-0", FEATURES, TARGETS, np.zeros(2, np.int64))
    spec = ModelSpec("linear", linear, FLOPS_PER_SAMPLE)
    return SequentialExecutor([client], full_batch(0.1), spec, "regression",
                              Simulation(datetime(2026, 1, 1, tzinfo=UTC), 0).fresh_rng)


def paired_spec() -> ModelSpec:
    return ModelSpec("paired", lambda: PairedModel(linear(), linear()), FLOPS_PER_SAMPLE)


def test_pfedme_procedure_reports_samples_per_pass() -> None:
    # same numbers as train_pfedme's hand computation; K = 2 passes are not counted twice
    model = pair(W0, W0)
    result = pfedme_procedure(model, FEATURES, TARGETS, full_batch(0.25),
                              np.random.default_rng(0), task="regression", lam=2.0,
                              inner_lr=0.1, inner_steps=2)
    w, theta = unpack_pair(get_flat(model), 2)
    assert torch.allclose(theta, torch.tensor([1.34, -1.66]), atol=TOL)
    assert torch.allclose(w, torch.tensor([1.17, -1.83]), atol=TOL)
    assert result.samples_processed == 2


def test_pfedme_job_costs_k_passes_per_planned_sample() -> None:
    ex = executor()
    job = ex.submit(TrainingJob(0, pack_pair(W0, W0, 2), "s", config=full_batch(0.1, 3),
                                procedure=pfedme_procedure_name(5), model=paired_spec(),
                                options={"lam": 1.0, "inner_lr": 0.1, "inner_steps": 5}))
    assert job.flops == 5 * 3 * 2 * FLOPS_PER_SAMPLE
    assert job.output().result.samples_processed == job.samples_processed


def test_ditto_procedure_matches_hand_computation_over_two_steps() -> None:
    lr, plr, lam = 0.1, 0.2, 0.5
    model = pair(W0, V0)
    ditto_procedure(model, FEATURES, TARGETS, full_batch(lr, steps=2), np.random.default_rng(0),
                    task="regression", lam=lam, personal_lr=plr)
    w, v = W0.clone(), V0.clone()
    for _ in range(2):
        w = w - lr * (w - TARGETS)
        # the reference stays the received model; every step starts from a fresh gradient
        v = v - plr * ((v - TARGETS) + lam * (v - W0))
    got_w, got_v = unpack_pair(get_flat(model), 2)
    assert torch.allclose(got_w, w, atol=TOL)
    assert torch.allclose(got_v, v, atol=TOL)


def test_ditto_job_costs_two_passes_per_planned_sample() -> None:
    register_personal_procedures()
    ex = executor()
    job = ex.submit(TrainingJob(0, pack_pair(W0, V0, 2), "s", config=full_batch(0.1, 4),
                                procedure=DITTO, model=paired_spec(),
                                options={"lam": 0.5, "personal_lr": 0.1}))
    assert job.flops == 2 * 4 * 2 * FLOPS_PER_SAMPLE
    assert job.output().result.samples_processed == job.samples_processed


def test_perfedavg_procedure_takes_one_meta_step_per_two_minibatches() -> None:
    alpha, beta = 0.1, 0.5
    model = linear()
    set_flat(model, W0)
    result = perfedavg_procedure(model, FEATURES, TARGETS, full_batch(alpha, steps=2),
                                 np.random.default_rng(0), task="regression", meta_lr=beta)
    assert torch.allclose(get_flat(model), W0 - beta * (1 - alpha) * (W0 - TARGETS), atol=TOL)
    assert (result.num_steps, result.samples_processed) == (1, 4)


def test_perfedavg_job_plans_both_minibatches_of_every_step() -> None:
    register_personal_procedures()
    ex = executor()
    job = ex.submit(TrainingJob(0, W0, "s", config=full_batch(0.1, 6), procedure=PERFEDAVG,
                                options={"meta_lr": 0.01}))
    assert job.flops == 6 * 2 * FLOPS_PER_SAMPLE
    assert job.output().result.samples_processed == job.samples_processed


def test_perfedavg_refuses_an_odd_number_of_minibatches() -> None:
    with pytest.raises(SimflError, match=r"even number of minibatches .* steps=3"):
        perfedavg_procedure(linear(), FEATURES, TARGETS, full_batch(0.1, steps=3),
                            np.random.default_rng(0), task="regression", meta_lr=0.1)


def test_paired_procedures_refuse_a_single_model_and_a_prox_term() -> None:
    with pytest.raises(SimflError, match="must be a PairedModel"):
        ditto_procedure(linear(), FEATURES, TARGETS, full_batch(0.1), np.random.default_rng(0),
                        task="regression", lam=0.1, personal_lr=0.1)
    with pytest.raises(SimflError, match="sets its own proximal term"):
        pfedme_procedure(pair(W0, W0), FEATURES, TARGETS, full_batch(0.1),
                         np.random.default_rng(0), task="regression", prox=(W0, 1.0),
                         lam=1.0, inner_lr=0.1, inner_steps=1)
