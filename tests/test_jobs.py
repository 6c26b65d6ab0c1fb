"""Tests of simfl.engine.jobs: jobs priced before they run, trained when asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import torch

from simfl.engine.jobs import ModelSpec, SequentialExecutor, TrainingJob, with_work
from simfl.engine.simulation import Simulation
from simfl.learning.client_data import ClientData
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import TrainConfig, train_local

FLOPS_PER_SAMPLE = 1000.0
EPOCH = datetime(2026, 2, 24, 12, tzinfo=UTC)


def make_executor(sizes: tuple[int, ...] = (20, 7, 33)) -> tuple[SequentialExecutor, ModelSpec]:
    gen = torch.Generator().manual_seed(0)
    clients = []
    for i, n in enumerate(sizes):
        x = torch.randn(n, 5, generator=gen)
        y = torch.randint(0, 3, (n,), generator=gen)
        clients.append(ClientData(f"client-{i}", x, y, y.numpy()))
    spec = ModelSpec("default", lambda: build_model("mlp", (5,), 3, hidden=[4], seed=1),
                     FLOPS_PER_SAMPLE)
    sim = Simulation(EPOCH, 0)
    cfg = TrainConfig(lr=0.1, epochs=2, batch_size=8)
    return SequentialExecutor(clients, cfg, spec, "classification", sim.fresh_rng), spec


def test_cost_is_known_before_the_job_runs() -> None:
    ex, spec = make_executor()
    job = ex.submit(TrainingJob(1, get_flat(spec.factory()), "train/client-1/1"))
    assert (job.done, job.samples_processed, job.num_samples) == (False, 14, 7)
    assert job.flops == 14 * FLOPS_PER_SAMPLE
    assert ex.jobs_run == 0


def test_planned_samples_are_what_training_processed() -> None:
    ex, spec = make_executor()
    for client, cfg in [(0, None), (2, with_work(ex.default_config, steps=5)),
                        (1, with_work(ex.default_config, epochs=3))]:
        job = ex.submit(TrainingJob(client, get_flat(spec.factory()), f"s{client}", config=cfg))
        assert job.output().result.samples_processed == job.samples_processed


def test_a_job_trains_exactly_like_train_local() -> None:
    ex, spec = make_executor()
    start = get_flat(spec.factory())
    value = ex.submit(TrainingJob(0, start, "train/client-0/3")).value()
    model = spec.factory()
    set_flat(model, start)
    train_local(model, ex.clients[0].x, ex.clients[0].y, ex.default_config,
                Simulation(EPOCH, 0).fresh_rng("train/client-0/3"))
    assert torch.equal(value, get_flat(model))


def test_results_do_not_depend_on_the_order_jobs_run() -> None:
    ex, spec = make_executor()
    start = get_flat(spec.factory())
    jobs = [ex.submit(TrainingJob(i, start, f"train/client-{i}/1")) for i in range(3)]
    forward = [j.value() for j in jobs]
    ex2, _ = make_executor()
    jobs2 = [ex2.submit(TrainingJob(i, start, f"train/client-{i}/1")) for i in range(3)]
    backward = [j.value() for j in reversed(jobs2)][::-1]
    assert all(torch.equal(a, b) for a, b in zip(forward, backward, strict=True))


def test_delta_result_is_trained_minus_start() -> None:
    ex, spec = make_executor()
    start = get_flat(spec.factory())
    trained = ex.submit(TrainingJob(0, start, "k")).value()
    delta = ex.submit(TrainingJob(0, start, "k", result="delta")).value()
    assert torch.allclose(delta, trained - start, atol=0.0)


def test_untrainable_parameters_do_not_move() -> None:
    ex, spec = make_executor()
    model = spec.factory()
    names = [n for n, _ in model.named_parameters()]
    start = get_flat(model)
    value = ex.submit(TrainingJob(0, start, "k", trainable=frozenset(names[-2:]))).value()
    frozen = sum(p.numel() for n, p in model.named_parameters() if n not in names[-2:])
    assert torch.equal(value[:frozen], start[:frozen])
    assert not torch.equal(value[frozen:], start[frozen:])
    assert all(p.requires_grad for p in ex.model_instance(spec).parameters())


def test_prox_pulls_toward_the_reference() -> None:
    ex, spec = make_executor()
    start = get_flat(spec.factory())
    free = ex.submit(TrainingJob(2, start, "k")).value()
    held = ex.submit(TrainingJob(2, start, "k", prox=(start, 5.0))).value()
    assert float((held - start).norm()) < float((free - start).norm())


def test_cancelled_job_never_runs() -> None:
    ex, spec = make_executor()
    job = ex.submit(TrainingJob(0, get_flat(spec.factory()), "k"))
    job.cancel()
    assert ex.pending == [] and ex.jobs_run == 0
    with pytest.raises(RuntimeError, match="cancelled"):
        job.value()


def test_unknown_client_is_refused() -> None:
    ex, spec = make_executor()
    with pytest.raises(IndexError, match=r"client 3 does not exist \(0..2\)"):
        ex.submit(TrainingJob(3, get_flat(spec.factory()), "k"))


def test_shuffling_stream_decides_the_minibatches() -> None:
    ex, spec = make_executor()
    start = get_flat(spec.factory())
    a = ex.submit(TrainingJob(0, start, "a")).value()
    b = ex.submit(TrainingJob(0, start, "b")).value()
    assert not torch.equal(a, b)
    assert np.isfinite(a.numpy()).all()


def test_sgd_stays_available_after_another_procedure_is_registered_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from simfl.engine import jobs

    monkeypatch.setattr(jobs, "_PROCEDURES", {})
    jobs.register_procedure("custom", train_local, passes_per_sample=2.0)
    assert jobs.procedure("sgd").fn is train_local
    assert jobs.procedure("custom").passes_per_sample == 2.0
