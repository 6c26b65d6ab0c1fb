"""Tests of simfl.engine.batched_executor: pending jobs train together, as sequentially."""

from __future__ import annotations

import pytest
import torch

from simfl.engine.batched_executor import BatchedExecutor
from simfl.engine.jobs import SequentialExecutor, TrainingJob, with_work
from simfl.errors import SimflError
from simfl.learning.params import get_flat
from tests.test_jobs import make_executor

ONE_MILLIONTH = 1e-6


def both() -> tuple[BatchedExecutor, SequentialExecutor]:
    seq, spec = make_executor()
    batched = BatchedExecutor(seq.clients, seq.default_config, spec, seq.task, seq.rng)
    return batched, seq


def submit_all(ex: SequentialExecutor | BatchedExecutor, **extra: object) -> list:  # type: ignore[type-arg]
    start = get_flat(ex.default_model.factory())
    cfgs = [None, with_work(ex.default_config, steps=5), with_work(ex.default_config, epochs=3)]
    return [ex.submit(TrainingJob(i, start, f"train/client-{i}/1", config=cfgs[i],
                                  **extra)) for i in range(3)]  # type: ignore[arg-type]


def test_pending_jobs_train_in_one_batch_like_the_sequential_path() -> None:
    batched, seq = both()
    got = [h.value() for h in submit_all(batched)]
    want = [h.value() for h in submit_all(seq)]
    assert batched.batches_run == 1 and batched.jobs_run == 3
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, atol=ONE_MILLIONTH)


def test_delta_and_prox_jobs_batch_too() -> None:
    batched, seq = both()
    start = get_flat(seq.default_model.factory())
    extra = {"result": "delta", "prox": (start, 2.0)}
    got = [h.value() for h in submit_all(batched, **extra)]
    want = [h.value() for h in submit_all(seq, **extra)]
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, atol=ONE_MILLIONTH)


def test_jobs_with_frozen_parameters_run_alone() -> None:
    batched, _ = both()
    names = frozenset(n for n, _ in batched.model_instance(batched.default_model)
                      .named_parameters())
    handles = submit_all(batched, trainable=names)
    handles[0].value()
    assert (batched.jobs_run, batched.batches_run, len(batched.pending)) == (1, 0, 2)


def test_batched_refuses_a_model_without_a_stacked_form() -> None:
    from simfl.engine.simulation import Simulation
    from simfl.errors import ScenarioError
    from simfl.scenario.load import scenario_from_text
    from simfl.scenario.world import build_world

    text = "name: r\nmodel: {kind: resnet8, hidden: [4]}\ntraining: {executor: batched}\n"
    with pytest.raises(ScenarioError, match=r"training.executor: 'batched' needs a model"):
        scenario_from_text(text)  # validate says so, before any work
    scenario = scenario_from_text(text.replace("batched", "auto"))
    batched = scenario.model_copy(update={"training": scenario.training.model_copy(
        update={"executor": "batched"})})
    with pytest.raises(ScenarioError, match=r"'batched' needs a model with a stacked form"):
        build_world(batched, Simulation(scenario.epoch, scenario.seed))


def test_batched_takes_per_step_regressors_with_their_context_encoder() -> None:
    from simfl.scenario.load import scenario_from_text

    text = ("name: w\ndata: {dataset: geo_workouts, geo_workouts: {context: true}}\n"
            "model: {kind: gru_per_step, hidden: [8]}\n"
            "training: {executor: batched, optimizer: rmsprop, loss: rmse}\n"
            "groups: {assignment: zones}\nalgorithm: {name: zone_fl, rounds: 1}\n")
    scenario_from_text(text)


def _paired_spec() -> tuple[object, torch.Tensor]:
    from simfl.engine.jobs import ModelSpec
    from simfl.learning.models import build_model
    from simfl.learning.paired import PairedModel, pack_pair

    def pair() -> PairedModel:
        return PairedModel(build_model("mlp", (5,), 3, hidden=[4], seed=1),
                           build_model("mlp", (5,), 3, hidden=[4], seed=2))

    w = get_flat(pair().first)
    return ModelSpec("paired/default", pair, 1.0), pack_pair(w, w + 0.1, w.numel())


@pytest.mark.parametrize("name", ["ditto", "pfedme", "perfedavg"])
def test_personalized_jobs_train_in_one_batch_like_their_procedure(name: str) -> None:
    from simfl.engine import batched_executor
    from simfl.learning.personal_procedures import (
        DITTO,
        PERFEDAVG,
        pfedme_procedure_name,
        register_personal_procedures,
    )

    register_personal_procedures()
    assert (batched_executor.DITTO, batched_executor.PERFEDAVG) == (DITTO, PERFEDAVG)
    procedure = {"ditto": DITTO, "pfedme": pfedme_procedure_name(3),
                 "perfedavg": PERFEDAVG}[name]
    options: dict[str, float] = {"ditto": {"lam": 0.5, "personal_lr": 0.05},
                                 "pfedme": {"lam": 15.0, "inner_lr": 0.05, "inner_steps": 3},
                                 "perfedavg": {"meta_lr": 0.03}}[name]
    batched, seq = both()
    spec, start = _paired_spec()
    extra = {"model": spec}
    if name == "perfedavg":  # one model, two minibatches per step
        start = get_flat(seq.default_model.factory())
        extra = {"config": with_work(seq.default_config, steps=6)}

    def submit(ex: SequentialExecutor | BatchedExecutor) -> list:  # type: ignore[type-arg]
        return [ex.submit(TrainingJob(i, start, f"train/client-{i}/1", procedure=procedure,
                                      options=options, **extra))  # type: ignore[arg-type]
                for i in range(3)]

    batched_handles, seq_handles = submit(batched), submit(seq)
    got = [h.value() for h in batched_handles]
    want = [h.value() for h in seq_handles]
    assert (batched.batches_run, batched.jobs_run) == (1, 3)
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, atol=ONE_MILLIONTH)
    for a, b in zip(batched_handles, seq_handles, strict=True):
        ra, rb = a.output().result, b.output().result
        assert (ra.num_samples, ra.num_steps, ra.samples_processed) == (
            rb.num_samples, rb.num_steps, rb.samples_processed)
        assert ra.mean_loss == pytest.approx(rb.mean_loss, rel=1e-5)


def test_a_bad_ditto_coefficient_is_refused_as_sequentially() -> None:
    from simfl.learning.personal_procedures import DITTO, register_personal_procedures

    register_personal_procedures()
    batched, _ = both()
    spec, start = _paired_spec()
    bad = TrainingJob(0, start, "train/client-0/2", procedure=DITTO, model=spec,  # type: ignore[arg-type]
                      options={"lam": 0.5, "personal_lr": 0.0})
    with pytest.raises(SimflError, match=r"personal_lr=0.0 > 0"):
        batched.submit(bad).value()


def test_mixed_personalized_jobs_and_a_one_sample_client_match_their_procedures() -> None:
    from simfl.learning.personal_procedures import (
        DITTO,
        PERFEDAVG,
        pfedme_procedure_name,
        register_personal_procedures,
    )

    register_personal_procedures()
    seq, default = make_executor(sizes=(20, 1, 33))
    batched = BatchedExecutor(seq.clients, seq.default_config, default, seq.task, seq.rng)
    spec, start = _paired_spec()
    plain = get_flat(default.factory())
    cfgs = [None, with_work(seq.default_config, steps=4),
            with_work(seq.default_config, epochs=3)]
    jobs = []
    for i in range(3):  # every family, with options that differ from job to job
        jobs.append(TrainingJob(i, start, f"ditto/{i}", procedure=DITTO, model=spec,
                                config=cfgs[i],
                                options={"lam": 0.1 * i, "personal_lr": 0.02 + 0.01 * i}))
        k = 1 + i
        jobs.append(TrainingJob(i, start, f"pfedme/{i}", procedure=pfedme_procedure_name(k),
                                model=spec, config=cfgs[i],
                                options={"lam": 5.0 + i, "inner_lr": 0.05, "inner_steps": k}))
        jobs.append(TrainingJob(i, plain, f"perfedavg/{i}", procedure=PERFEDAVG,
                                config=with_work(seq.default_config, steps=2 + 2 * i),
                                options={"meta_lr": 0.01 * (i + 1)}))
    got = [h.value() for h in [batched.submit(j) for j in jobs]]
    want = [h.value() for h in [seq.submit(j) for j in jobs]]
    assert batched.batches_run == 3 and batched.jobs_run == len(jobs)
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, atol=ONE_MILLIONTH)


def test_a_personalized_job_with_a_prox_term_runs_alone_and_is_refused() -> None:
    from simfl.learning.personal_procedures import DITTO, register_personal_procedures

    register_personal_procedures()
    batched, _ = both()
    spec, start = _paired_spec()
    job = TrainingJob(0, start, "ditto/0", procedure=DITTO, model=spec,  # type: ignore[arg-type]
                      options={"lam": 0.5, "personal_lr": 0.05}, prox=(start, 1.0))
    assert batched.unbatchable(spec, batched.submit(job)) == (  # type: ignore[arg-type]
        "'ditto' sets its own proximal term")
    with pytest.raises(SimflError, match=r"sets its own proximal term; submit prox=None"):
        batched.submit(job).value()
