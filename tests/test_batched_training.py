"""Tests of simfl.learning.batched_training: batched == sequential train_local."""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.batched_training import BatchJob, train_batched
from simfl.learning.builtin import load_digits
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import TrainConfig, TrainResult, train_local

#: Batched vs sequential parameters after training with SGD: float32 rounding of
#: differently ordered sums (measured <= 1.2e-7 on these tests).
SGD_ATOL = 1e-5
#: With Adam, m / sqrt(v) amplifies rounding where gradients are near 0 (measured 1e-5).
ADAM_ATOL = 1e-4
#: Relative tolerance of the reported mean loss (measured <= 1e-6).
LOSS_RTOL = 1e-5

SIZES = (37, 5, 64, 1, 20)  # unequal shards, one smaller than any batch


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_digits(image=True)
    return torch.from_numpy(data.x), torch.from_numpy(data.y)


def _shards(
    digits: tuple[torch.Tensor, torch.Tensor], shape: tuple[int, ...]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    x, y = digits
    ends = np.cumsum((0, *SIZES))
    return [
        (x[a:b].reshape(b - a, *shape).contiguous(), y[a:b])
        for a, b in itertools.pairwise(ends)
    ]


def _jobs(
    model: nn.Module,
    shards: list[tuple[torch.Tensor, torch.Tensor]],
    cfg: TrainConfig,
    steps: list[int | None] | None = None,
    mu: float | None = None,
) -> list[BatchJob]:
    start = get_flat(model)
    ref = start + 0.05
    return [
        BatchJob(start + 0.01 * i, x, y, cfg, np.random.default_rng(i),
                 prox=None if mu is None else (ref, mu),
                 steps=None if steps is None else steps[i])
        for i, (x, y) in enumerate(shards)
    ]


def _sequential(
    model: nn.Module, jobs: list[BatchJob], task: str = "classification"
) -> list[tuple[torch.Tensor, TrainResult]]:
    """Return train_local's outcome per job, on copies of the jobs' streams (call it first)."""
    out = []
    for j in jobs:
        local = copy.deepcopy(model)
        set_flat(local, j.start)
        cfg = j.cfg
        if j.steps is not None:
            cfg = dataclasses.replace(cfg, epochs=None, steps=j.steps)
        rng = copy.deepcopy(j.rng)
        result = train_local(local, j.x, j.y, cfg, rng, task, j.prox)
        out.append((get_flat(local), result))
    return out


def _assert_match(
    got: list[tuple[torch.Tensor, TrainResult]],
    expected: list[tuple[torch.Tensor, TrainResult]],
    atol: float = SGD_ATOL,
) -> None:
    assert len(got) == len(expected)
    for (vec, res), (ref_vec, ref_res) in zip(got, expected, strict=True):
        assert torch.allclose(vec, ref_vec, atol=atol, rtol=0)
        assert (res.num_samples, res.num_steps, res.samples_processed) == (
            ref_res.num_samples, ref_res.num_steps, ref_res.samples_processed)
        assert res.mean_loss == pytest.approx(ref_res.mean_loss, rel=LOSS_RTOL)


@pytest.mark.parametrize(
    ("kind", "shape", "hidden"),
    [("logreg", (64,), ()), ("mlp", (64,), (16, 8)), ("cnn", (1, 8, 8), (4, 8)),
     ("gru", (8, 8), (8,)), ("lstm", (8, 8), (8, 8))],
)
def test_batched_equals_sequential_for_each_kind(
    digits: tuple[torch.Tensor, torch.Tensor],
    kind: str,
    shape: tuple[int, ...],
    hidden: tuple[int, ...],
) -> None:
    model = build_model(kind, shape, 10, hidden=hidden or (1,), seed=0)
    cfg = TrainConfig(lr=0.1, epochs=2, batch_size=16)
    jobs = _jobs(model, _shards(digits, shape), cfg, steps=[None, 3, None, 2, 7])
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs), expected)


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(lr=0.05, momentum=0.9, weight_decay=0.01, steps=6, epochs=None,
                    batch_size=16),
        TrainConfig(optimizer="adam", lr=0.01, weight_decay=0.01, epochs=2, batch_size=16),
        TrainConfig(optimizer="rmsprop", lr=0.003, weight_decay=0.01, momentum=0.9, epochs=2,
                    batch_size=16),
    ],
    ids=["sgd-momentum-weight-decay", "adam-weight-decay", "rmsprop-weight-decay"],
)
def test_optimizer_state_is_per_client(
    digits: tuple[torch.Tensor, torch.Tensor], cfg: TrainConfig
) -> None:
    model = build_model("mlp", (64,), 10, hidden=(16,), seed=0)
    jobs = _jobs(model, _shards(digits, (64,)), cfg, steps=[None, 1, None, 4, None])
    atol = ADAM_ATOL if cfg.optimizer != "sgd" else SGD_ATOL  # both divide by a root
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs), expected, atol)


def test_prox_term_matches_sequential(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = build_model("mlp", (64,), 10, hidden=(16,), seed=0)
    jobs = _jobs(model, _shards(digits, (64,)), TrainConfig(lr=0.1, epochs=3, batch_size=8),
                 mu=0.5)
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs), expected)


def test_different_settings_in_one_call_match_sequential(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("mlp", (64,), 10, hidden=(16,), seed=0)
    shards = _shards(digits, (64,))
    sgd = _jobs(model, shards[:3], TrainConfig(lr=0.1, batch_size=8))
    adam = _jobs(model, shards[3:], TrainConfig(optimizer="adam", lr=0.01, batch_size=4))
    prox = _jobs(model, shards[:2], TrainConfig(lr=0.1, batch_size=8), mu=0.3)
    jobs = [adam[0], *sgd, *prox, adam[1]]
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs), expected, ADAM_ATOL)


def test_small_memory_bound_splits_clients_without_changing_results(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("mlp", (64,), 10, hidden=(16,), seed=0)
    jobs = _jobs(model, _shards(digits, (64,)), TrainConfig(lr=0.1, batch_size=16))
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs, max_activation_floats=1), expected)


@pytest.mark.parametrize("loss", ["mse", "rmse"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_matches_sequential(
    digits: tuple[torch.Tensor, torch.Tensor], outputs: int, loss: str
) -> None:
    model = build_model("mlp", (64,), outputs, hidden=(8,), seed=0)
    shards = []
    for x, y in _shards(digits, (64,)):
        target = y.float() / 10
        shards.append((x, target if outputs == 1 else torch.stack([target] * outputs, 1)))
    jobs = _jobs(model, shards, TrainConfig(lr=0.05, epochs=2, batch_size=16, loss=loss),
                 steps=[None, 3, None, 2, 7])
    expected = _sequential(model, jobs, "regression")
    _assert_match(train_batched(model, jobs, "regression"), expected)


def test_rmse_and_mse_jobs_in_one_call_train_apart(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("mlp", (64,), 1, hidden=(8,), seed=0)
    shards = [(x, y.float() / 10) for x, y in _shards(digits, (64,))]
    rmse = _jobs(model, shards[:3], TrainConfig(optimizer="rmsprop", lr=0.003, loss="rmse",
                                                batch_size=8))
    mse = _jobs(model, shards[3:], TrainConfig(optimizer="rmsprop", lr=0.003, batch_size=8))
    jobs = [mse[0], *rmse, mse[1]]
    expected = _sequential(model, jobs, "regression")
    _assert_match(train_batched(model, jobs, "regression"), expected, ADAM_ATOL)


def test_streams_advance_as_in_sequential_training(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    shared = np.random.default_rng(4)  # one stream drawn by two jobs, in job order
    x, y = digits[0][:40].reshape(40, 64), digits[1][:40]
    cfg = TrainConfig(lr=0.1, epochs=2, batch_size=16)
    jobs = [BatchJob(get_flat(model), x[:30], y[:30], cfg, shared),
            BatchJob(get_flat(model), x[30:], y[30:], cfg, shared)]
    twin = np.random.default_rng(4)
    seq_jobs = [BatchJob(j.start, j.x, j.y, j.cfg, twin) for j in jobs]
    expected = [_sequential(model, [j])[0] for j in seq_jobs]
    for j in seq_jobs:  # _sequential trains on copies of the stream; advance the twin too
        train_local(copy.deepcopy(model), j.x, j.y, j.cfg, twin)
    _assert_match(train_batched(model, jobs), expected)
    assert shared.integers(1 << 30) == twin.integers(1 << 30)


def test_batched_training_is_deterministic(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = build_model("cnn", (1, 8, 8), 10, hidden=(4, 8), seed=0)
    cfg = TrainConfig(lr=0.1, momentum=0.5, epochs=2, batch_size=16)
    first = train_batched(model, _jobs(model, _shards(digits, (1, 8, 8)), cfg))
    second = train_batched(model, _jobs(model, _shards(digits, (1, 8, 8)), cfg))
    for (a, ra), (b, rb) in zip(first, second, strict=True):
        assert torch.equal(a, b) and ra == rb


def test_uncovered_model_falls_back_to_train_local(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Tanh(), nn.Linear(8, 10))
    jobs = _jobs(model, _shards(digits, (64,)), TrainConfig(lr=0.1, batch_size=16))
    expected = _sequential(model, jobs)
    got = train_batched(model, jobs)
    for (vec, res), (ref_vec, ref_res) in zip(got, expected, strict=True):
        assert torch.equal(vec, ref_vec) and res == ref_res


def test_model_is_left_untouched(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = build_model("mlp", (64,), 10, hidden=(8,), seed=0)
    before = get_flat(model)
    train_batched(model, _jobs(model, _shards(digits, (64,)), TrainConfig(lr=0.1)))
    assert torch.equal(get_flat(model), before)


def test_start_vector_of_another_architecture_is_rejected(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("mlp", (64,), 10, hidden=(8,), seed=0)
    x, y = _shards(digits, (64,))[0]
    job = BatchJob(torch.zeros(7), x, y, TrainConfig(), np.random.default_rng(0))
    with pytest.raises(SimflError, match="start vector has shape"):
        train_batched(model, [job])


def test_jobs_with_different_sample_shapes_are_rejected(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    x, y = _shards(digits, (64,))[0]
    jobs = [BatchJob(get_flat(model), x, y, TrainConfig(), np.random.default_rng(0)),
            BatchJob(get_flat(model), x.view(-1, 1, 8, 8), y, TrainConfig(),
                     np.random.default_rng(1))]
    with pytest.raises(SimflError, match="job 1 has samples"):
        train_batched(model, jobs)


def test_bad_prox_mu_is_rejected(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    jobs = _jobs(model, _shards(digits, (64,))[:1], TrainConfig(), mu=-1.0)
    with pytest.raises(SimflError, match=r"mu=-1\.0 must be >= 0"):
        train_batched(model, jobs)


def test_steps_split_into_passes_match_sequential(
    digits: tuple[torch.Tensor, torch.Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("simfl.learning.batched_training.MIN_SPLIT_ROWS", 1)
    model = build_model("mlp", (64,), 10, hidden=(16,), seed=0)
    cfg = TrainConfig(lr=0.05, momentum=0.9, epochs=2, batch_size=16)
    jobs = _jobs(model, _shards(digits, (64,)), cfg)
    expected = _sequential(model, jobs)
    _assert_match(train_batched(model, jobs), expected)


@pytest.mark.parametrize(("kind", "hidden"), [("lstm_per_step", (8, 8)), ("gru_per_step", (6,))])
def test_per_step_regressors_match_sequential(
    digits: tuple[torch.Tensor, torch.Tensor], kind: str, hidden: tuple[int, ...]
) -> None:
    # workouts of 8 steps x 8 features, a target at every step (in "bpm", mean 120, std 20)
    from simfl.learning.batched_models import batched_support

    model = build_model(kind, (8, 8), 1, hidden=hidden, seed=0, target_scale=(120.0, 20.0))
    assert batched_support(model, (8, 8))
    shards = [(x, 100.0 + 5.0 * x.sum(dim=2)) for x, _ in _shards(digits, (8, 8))]
    cfg = TrainConfig(optimizer="rmsprop", lr=0.003, weight_decay=1e-4, steps=5, epochs=None,
                      batch_size=16, loss="rmse")
    jobs = _jobs(model, shards, cfg, steps=[None, 3, None, 2, 7])
    expected = _sequential(model, jobs, "regression")
    _assert_match(train_batched(model, jobs, "regression"), expected, ADAM_ATOL)


@pytest.mark.parametrize("kind", ["gru_per_step", "lstm_per_step"])
def test_a_per_step_regressor_with_context_matches_sequential(
    digits: tuple[torch.Tensor, torch.Tensor], kind: str,
) -> None:
    from simfl.learning.batched_models import batched_support

    model = build_model(kind, (8, 8), 1, hidden=(6, 6), seed=0, context_features=3,
                        target_scale=(120.0, 20.0))
    assert batched_support(model, (8, 8))
    shards = [(x, 100.0 + 5.0 * x.sum(dim=2)) for x, _ in _shards(digits, (8, 8))]
    # SGD: the form itself matches to float rounding (measured <= 3e-8). RMSprop's first
    # steps divide by |g|, which amplifies the rounding of the context encoder's near-zero
    # gradients (measured up to 2.4e-4 on one client), so it is tested without context.
    cfg = TrainConfig(lr=0.003, steps=4, epochs=None, batch_size=16, loss="rmse")
    jobs = _jobs(model, shards, cfg, steps=[None, 3, None, 2, 7])
    expected = _sequential(model, jobs, "regression")
    _assert_match(train_batched(model, jobs, "regression"), expected)
