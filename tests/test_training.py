"""Tests of simfl.learning.training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.builtin import load_digits
from simfl.learning.dataset import train_test_split
from simfl.learning.models import build_model
from simfl.learning.params import get_flat
from simfl.learning.training import TrainConfig, evaluate, train_local

Digits = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@pytest.fixture(scope="module")
def digits() -> Digits:
    train, test = train_test_split(load_digits(), 0.25, seed=0)
    return (
        torch.from_numpy(train.x),
        torch.from_numpy(train.y),
        torch.from_numpy(test.x),
        torch.from_numpy(test.y),
    )


def _mlp(seed: int = 0) -> torch.nn.Module:
    return build_model("mlp", (64,), 10, hidden=(32,), seed=seed)


def test_logreg_on_digits_exceeds_90_percent(digits: Digits) -> None:
    x, y, xt, yt = digits
    model = build_model("logreg", (64,), 10, seed=0)
    cfg = TrainConfig(lr=0.5, epochs=5, batch_size=32)
    train_local(model, x, y, cfg, np.random.default_rng(0))
    metrics = evaluate(model, xt, yt)
    assert metrics["accuracy"] > 0.90
    assert 0 < metrics["loss"] < 0.5


def test_training_is_bitwise_deterministic(digits: Digits) -> None:
    x, y, _, _ = digits
    cfg = TrainConfig(lr=0.1, momentum=0.9, weight_decay=1e-4, epochs=1, batch_size=16)
    a, b = _mlp(), _mlp()
    ra = train_local(a, x, y, cfg, np.random.default_rng(5))
    rb = train_local(b, x, y, cfg, np.random.default_rng(5))
    assert torch.equal(get_flat(a), get_flat(b))
    assert ra == rb


def test_different_rng_seed_gives_different_weights(digits: Digits) -> None:
    x, y, _, _ = digits
    a, b = _mlp(), _mlp()
    train_local(a, x, y, TrainConfig(), np.random.default_rng(1))
    train_local(b, x, y, TrainConfig(), np.random.default_rng(2))
    assert not torch.equal(get_flat(a), get_flat(b))


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.01)])
def test_sgd_matches_torch_optim_sgd_bitwise(
    digits: Digits,
    momentum: float,
    weight_decay: float,
) -> None:
    x, y, _, _ = digits
    cfg = TrainConfig(lr=0.05, momentum=momentum, weight_decay=weight_decay, steps=5, epochs=None)
    ours = _mlp()
    train_local(ours, x[:80], y[:80], cfg, np.random.default_rng(3))

    ref = _mlp()
    opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    rng, steps = np.random.default_rng(3), 0
    while steps < 5:  # 80 samples = minibatches of 32, 32, 16; then a fresh permutation
        perm = torch.from_numpy(rng.permutation(80))
        for start in range(0, 80, 32):
            if steps == 5:
                break
            idx = perm[start : start + 32]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(ref(x[idx]), y[idx]).backward()
            opt.step()
            steps += 1
    assert torch.equal(get_flat(ours), get_flat(ref))


def test_steps_cycle_through_reshuffled_epochs() -> None:
    x, y = torch.rand(50, 4), torch.zeros(50, dtype=torch.int64)
    model = build_model("logreg", (4,), 2, seed=0)
    result = train_local(
        model, x, y, TrainConfig(steps=10, epochs=None, batch_size=16), np.random.default_rng(0)
    )
    # Each epoch is 4 minibatches (16, 16, 16, 2): 10 steps = 2 epochs + 2 minibatches.
    assert (result.num_steps, result.samples_processed, result.num_samples) == (10, 132, 50)


def test_epochs_count_minibatches_and_samples() -> None:
    x, y = torch.rand(50, 4), torch.zeros(50, dtype=torch.int64)
    model = build_model("logreg", (4,), 2, seed=0)
    result = train_local(
        model, x, y, TrainConfig(epochs=2, batch_size=16), np.random.default_rng(0)
    )
    assert (result.num_steps, result.samples_processed) == (8, 100)


def test_steps_take_precedence_over_epochs() -> None:
    x, y = torch.rand(50, 4), torch.zeros(50, dtype=torch.int64)
    model = build_model("logreg", (4,), 2, seed=0)
    result = train_local(model, x, y, TrainConfig(epochs=3, steps=1), np.random.default_rng(0))
    assert result.num_steps == 1 and result.samples_processed == 32


def test_prox_gradient_equals_autograd_of_the_proximal_term(digits: Digits) -> None:
    x, y, _, _ = digits
    w_ref = get_flat(_mlp(seed=9))
    mu = 0.7
    ours = _mlp()
    cfg = TrainConfig(lr=0.1, steps=1, epochs=None, batch_size=32)
    train_local(ours, x, y, cfg, np.random.default_rng(0), prox=(w_ref, mu))

    ref = _mlp()
    idx = torch.from_numpy(np.random.default_rng(0).permutation(x.shape[0]))[:32]
    w = torch.cat([p.reshape(-1) for p in ref.parameters()])
    loss = torch.nn.functional.cross_entropy(ref(x[idx]), y[idx])
    loss = loss + mu / 2 * (w - w_ref).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(p.grad, alpha=-0.1)  # type: ignore[arg-type]
    assert torch.allclose(get_flat(ours), get_flat(ref), atol=1e-6)


def test_large_prox_keeps_weights_near_reference(digits: Digits) -> None:
    x, y, _, _ = digits
    start = get_flat(_mlp())
    free, held = _mlp(), _mlp()
    cfg = TrainConfig(lr=0.05, epochs=1)
    train_local(free, x, y, cfg, np.random.default_rng(0))
    train_local(held, x, y, cfg, np.random.default_rng(0), prox=(start, 10.0))
    drift_free = (get_flat(free) - start).norm()
    drift_held = (get_flat(held) - start).norm()
    assert drift_held < 0.3 * drift_free


def test_adam_trains_and_is_deterministic(digits: Digits) -> None:
    x, y, xt, yt = digits
    cfg = TrainConfig(optimizer="adam", lr=1e-2, epochs=2)
    a, b = _mlp(), _mlp()
    train_local(a, x, y, cfg, np.random.default_rng(0))
    train_local(b, x, y, cfg, np.random.default_rng(0))
    assert torch.equal(get_flat(a), get_flat(b))
    assert evaluate(a, xt, yt)["accuracy"] > 0.9


def test_regression_reduces_rmse_with_gru() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(256, 5, 2, generator=gen)
    y = x.sum(dim=(1, 2)) / 5  # targets in [0, 2]
    model = build_model("gru", (5, 2), 1, hidden=(16,), seed=0)
    before = evaluate(model, x, y, task="regression")
    result = train_local(
        model,
        x,
        y,
        TrainConfig(optimizer="adam", lr=0.01, epochs=15),
        np.random.default_rng(0),
        task="regression",
    )
    after = evaluate(model, x, y, task="regression")
    assert after["rmse"] < 0.5 * before["rmse"]
    assert after["loss"] == pytest.approx(after["rmse"] ** 2)
    assert np.isfinite(result.mean_loss)


def test_rmsprop_with_rmse_loss_matches_the_official_sgfusion_update() -> None:
    # SGFusion's clients: full-batch RMSprop (lr 1e-3, weight decay 1e-4) on sqrt(MSE)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(6, 4, 3, generator=gen), 100.0 + torch.rand(6, 4, generator=gen)
    cfg = TrainConfig(optimizer="rmsprop", lr=1e-3, weight_decay=1e-4, steps=5, epochs=None,
                      batch_size=1000, loss="rmse")
    ours = build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0)
    result = train_local(ours, x, y, cfg, np.random.default_rng(0), task="regression")
    ref = build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0)
    opt = torch.optim.RMSprop(ref.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(5):  # a full batch: the shuffle changes only the sample order
        opt.zero_grad()
        torch.sqrt(torch.nn.functional.mse_loss(ref(x), y)).backward()
        opt.step()
    assert get_flat(ours) == pytest.approx(get_flat(ref), abs=1e-6)
    assert result.samples_processed == 30


def test_per_step_targets_pool_the_error_of_every_step() -> None:
    model = build_model("lstm_per_step", (3, 2), 1, hidden=(4,), seed=0)
    x, y = torch.rand(5, 3, 2), torch.rand(5, 3)
    with torch.no_grad():
        squared = (model(x) - y) ** 2
    metrics = evaluate(model, x, y, task="regression", batch_size=2)
    assert metrics["rmse"] == pytest.approx(float(squared.mean().sqrt()), rel=1e-6)


def test_evaluate_counts_correct_predictions_across_batches() -> None:
    model = build_model("logreg", (2,), 2, seed=0)
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))  # type: ignore[index]
        model[1].bias.zero_()  # type: ignore[index]
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    y = torch.tensor([0, 1, 1, 1, 0])
    model.train()
    metrics = evaluate(model, x, y, batch_size=2)
    assert metrics["accuracy"] == pytest.approx(4 / 5)
    assert model.training


def test_train_config_rejects_bad_values() -> None:
    with pytest.raises(SimflError, match="lr=0 must be > 0") as info:
        TrainConfig(lr=0, batch_size=0, optimizer="lbfgs")  # type: ignore[arg-type]
    text = str(info.value)
    assert "batch_size=0 must be >= 1" in text and "optimizer 'lbfgs' is unknown" in text


def test_train_config_needs_epochs_or_steps() -> None:
    with pytest.raises(SimflError, match="epochs and steps are both None"):
        TrainConfig(epochs=None, steps=None)


def test_float_labels_for_classification_are_rejected() -> None:
    model = build_model("logreg", (4,), 2, seed=0)
    with pytest.raises(SimflError, match=r"classification labels have dtype torch\.float32"):
        train_local(model, torch.rand(4, 4), torch.zeros(4), TrainConfig(), np.random.default_rng())


def test_prox_reference_of_wrong_size_is_rejected() -> None:
    model = build_model("logreg", (4,), 2, seed=0)
    x, y = torch.rand(4, 4), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(SimflError, match="does not fit a model with 10 parameters"):
        train_local(model, x, y, TrainConfig(), np.random.default_rng(), prox=(torch.zeros(3), 1.0))


def test_float64_features_are_rejected_with_advice() -> None:
    model = build_model("logreg", (4,), 2, seed=0)
    x, y = torch.rand(4, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(SimflError, match=r"convert them with x\.to\(torch\.float32\)"):
        evaluate(model, x, y)
