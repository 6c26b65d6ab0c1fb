"""Tests of simfl.learning.ensemble (logit ensemble, one-shot averaging, FedDF distillation)
and of the timed ``ensemble`` algorithm (simfl.algorithms.oneshot.ensemble)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.ensemble import EnsembleModel, average_models, distill, ensemble_logits
from simfl.learning.models import build_model
from simfl.learning.training import TrainConfig, train_local

FLOAT_TOL = 1e-6


def _mlps(n: int) -> list[torch.nn.Module]:
    return [build_model("mlp", (16,), 4, hidden=(8,), seed=s) for s in range(n)]


def test_ensemble_is_the_mean_of_logits() -> None:
    models = _mlps(3)
    x = torch.randn(5, 16)
    expected = (models[0](x) + models[1](x) + models[2](x)) / 3
    assert torch.allclose(EnsembleModel(models)(x), expected, atol=FLOAT_TOL)
    assert torch.allclose(ensemble_logits(models, x, batch_size=2), expected, atol=FLOAT_TOL)


def test_ensemble_logits_run_in_eval_mode_and_restore_it() -> None:
    models = [build_model("resnet8", (3, 8, 8), 4, hidden=(2,), seed=s) for s in range(2)]
    buffers = [b.clone() for m in models for b in m.buffers()]
    ensemble_logits(models, torch.randn(4, 3, 8, 8))
    assert all(m.training for m in models)
    after = [b for m in models for b in m.buffers()]
    assert all(torch.equal(a, b) for a, b in zip(buffers, after, strict=True))


def test_uniform_average_includes_batchnorm_statistics() -> None:
    models = [build_model("resnet8", (3, 8, 8), 4, hidden=(2,), seed=s) for s in range(2)]
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 4, (8,))
    for i, m in enumerate(models):
        train_local(m, x + i, y, TrainConfig(batch_size=4), np.random.default_rng(i))
    avg = average_models(models)
    for name, value in avg.state_dict().items():
        a, b = models[0].state_dict()[name], models[1].state_dict()[name]
        expected = (a + b) / 2 if value.is_floating_point() else a
        assert torch.allclose(value, expected, atol=FLOAT_TOL), name


def test_weighted_average_normalises_the_weights() -> None:
    models = _mlps(2)
    avg = average_models(models, weights=[1.0, 3.0])
    expected = 0.25 * models[0][1].weight + 0.75 * models[1][1].weight
    assert torch.allclose(avg[1].weight, expected, atol=FLOAT_TOL)


def test_negative_weights_are_refused() -> None:
    with pytest.raises(SimflError, match="must be one non-negative weight per model"):
        average_models(_mlps(2), weights=[1.0, -1.0])


def _kl_to_ensemble(student: torch.nn.Module, teachers: list[torch.nn.Module],
                    x: torch.Tensor) -> float:
    target = torch.softmax(ensemble_logits(teachers, x), dim=1)
    with torch.no_grad():
        log_p = torch.log_softmax(student(x), dim=1)
    return float(torch.nn.functional.kl_div(log_p, target, reduction="batchmean"))


def test_distillation_moves_the_student_towards_the_ensemble() -> None:
    teachers = _mlps(3)
    student = build_model("mlp", (16,), 4, hidden=(8,), seed=99)
    x_public = torch.randn(64, 16)
    before = _kl_to_ensemble(student, teachers, x_public)
    teacher_state = [t.state_dict()["1.weight"].clone() for t in teachers]
    result = distill(student, teachers, x_public,
                     TrainConfig(optimizer="adam", lr=0.01, steps=60, epochs=None,
                                 batch_size=16), np.random.default_rng(0))
    assert result.num_steps == 60 and result.samples_processed == 60 * 16
    assert _kl_to_ensemble(student, teachers, x_public) < before / 4
    assert all(torch.equal(s, t.state_dict()["1.weight"])
               for s, t in zip(teacher_state, teachers, strict=True))


def test_distillation_is_deterministic_for_a_seed() -> None:
    teachers = _mlps(2)
    x_public = torch.randn(32, 16)
    cfg = TrainConfig(lr=0.1, epochs=2, batch_size=8)
    a = build_model("mlp", (16,), 4, hidden=(8,), seed=5)
    b = build_model("mlp", (16,), 4, hidden=(8,), seed=5)
    distill(a, teachers, x_public, cfg, np.random.default_rng(1), temperature=2.0)
    distill(b, teachers, x_public, cfg, np.random.default_rng(1), temperature=2.0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_distillation_refuses_a_zero_temperature() -> None:
    with pytest.raises(SimflError, match=r"temperature=0\.0 must be > 0"):
        distill(_mlps(1)[0], _mlps(2), torch.randn(4, 16), TrainConfig(),
                np.random.default_rng(0), temperature=0.0)


ENSEMBLE_WORLD = """
name: small_ensemble
seed: 6
partition: {num_clients: 3, scheme: dirichlet, alpha: 0.5}
model: {kind: mlp, hidden: [16]}
training: {lr: 0.1, batch_size: 16}
algorithm: {name: ensemble, local_epochs: 1}
output: {figures: false}
"""


def test_ensemble_algorithm_sends_every_model_to_every_client() -> None:
    from simfl.runs.runner import simulate
    from simfl.scenario.load import scenario_from_text

    result = simulate(scenario_from_text(ENSEMBLE_WORLD))
    payload, m = result.summary["payload_bytes"], 3
    transfers = result.trace[result.trace["kind"] == "transfer"]
    assert sorted(transfers["bytes"]) == [payload] * m + [m * payload] * m
    assert len(result.algorithm.final_model.members) == m
    evals = result.trace[(result.trace["kind"] == "evaluate")]
    world = result.algorithm.world
    assert evals["flops"].iloc[0] == m * world.eval_flops_per_sample * len(world.test_y)
