"""Tests of simfl.learning.resnet and the resnet kinds of build_model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.flops import inference_flops_per_sample, training_flops_per_sample
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, num_parameters
from simfl.learning.training import TrainConfig, evaluate, train_local

SMALL = (3, 8, 8)


def _bn_buffers(model: nn.Module) -> list[torch.Tensor]:
    return [b.clone() for n, b in model.named_buffers() if "running" in n]


def test_resnet18_at_width_64_has_the_standard_cifar_parameter_count() -> None:
    model = build_model("resnet18", (3, 32, 32), 10, seed=0)
    assert num_parameters(model) == 11_173_962


def test_resnet8_parameters_follow_the_layer_formula() -> None:
    w = 16
    stem = 3 * 9 * w + 2 * w
    block1 = 2 * 9 * w * w + 4 * w
    block2 = 9 * w * 2 * w + 9 * (2 * w) ** 2 + 4 * 2 * w + w * 2 * w + 2 * 2 * w
    block3 = 9 * 2 * w * 4 * w + 9 * (4 * w) ** 2 + 4 * 4 * w + 2 * w * 4 * w + 2 * 4 * w
    head = 4 * w * 10 + 10
    model = build_model("resnet8", (3, 32, 32), 10, seed=0)
    assert num_parameters(model) == stem + block1 + block2 + block3 + head


@pytest.mark.parametrize("kind", ["resnet8", "resnet18"])
def test_same_seed_gives_bitwise_equal_resnets(kind: str) -> None:
    a = build_model(kind, SMALL, 10, hidden=(4,), seed=2)
    b = build_model(kind, SMALL, 10, hidden=(4,), seed=2)
    c = build_model(kind, SMALL, 10, hidden=(4,), seed=3)
    assert torch.equal(get_flat(a), get_flat(b))
    assert not torch.equal(get_flat(a), get_flat(c))


def _conv_and_linear_flops(model: nn.Module, shape: tuple[int, ...]) -> int:
    """Count 2 * multiply-adds of every Conv2d and Linear from their output shapes."""
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            total += 2 * out[0].numel() * k
        elif isinstance(module, nn.Linear):
            total += 2 * out[0].numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("kind", ["resnet8", "resnet18"])
def test_flop_count_is_convolutions_and_classifier_only(kind: str) -> None:
    # BatchNorm, ReLU, pooling and the residual additions are elementwise: not counted.
    model = build_model(kind, SMALL, 10, hidden=(4,), seed=0)
    assert inference_flops_per_sample(model, SMALL) == _conv_and_linear_flops(model, SMALL)


def test_resnet_training_flops_are_about_three_times_forward() -> None:
    model = build_model("resnet8", SMALL, 10, hidden=(4,), seed=0)
    forward = inference_flops_per_sample(model, SMALL)
    assert 2.5 * forward < training_flops_per_sample(model, SMALL, num_outputs=10) <= 3 * forward


def test_training_updates_batchnorm_statistics() -> None:
    model = build_model("resnet8", SMALL, 4, hidden=(4,), seed=0)
    x, y = torch.randn(24, *SMALL), torch.randint(0, 4, (24,))
    before = _bn_buffers(model)
    train_local(model, x, y, TrainConfig(batch_size=8), np.random.default_rng(0))
    after = _bn_buffers(model)
    assert all(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_evaluate_uses_running_statistics_and_changes_nothing() -> None:
    model = build_model("resnet8", SMALL, 4, hidden=(4,), seed=0)
    x, y = torch.randn(8, *SMALL), torch.randint(0, 4, (8,))
    train_local(model, x, y, TrainConfig(batch_size=4), np.random.default_rng(0))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    whole = evaluate(model, x, y, batch_size=8)
    one_by_one = evaluate(model, x, y, batch_size=1)
    one_ulp_loss = 1e-6
    assert whole["loss"] == pytest.approx(one_by_one["loss"], abs=one_ulp_loss)
    assert model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_resnet_rejects_two_widths() -> None:
    with pytest.raises(SimflError, match=r"must give one base width, e.g. hidden=\(16,\)"):
        build_model("resnet8", SMALL, 10, hidden=(16, 16), seed=0)


def test_resnet_rejects_flat_input() -> None:
    with pytest.raises(SimflError, match=r"must be \(channels, height, width\)"):
        build_model("resnet18", (64,), 10, seed=0)
