"""Tests of simfl.learning.flops: counts from the real model."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.flops import (
    architecture_flops_per_sample,
    inference_flops_per_sample,
    training_flops_per_sample,
)
from simfl.learning.models import build_model
from simfl.learning.params import get_flat


def test_mlp_forward_flops_are_two_per_multiply_add() -> None:
    model = build_model("mlp", (64,), 10, hidden=(32, 16), seed=0)
    expected = 2 * (64 * 32 + 32 * 16 + 16 * 10)
    assert inference_flops_per_sample(model, (64,)) == expected


def test_mlp_backward_is_about_twice_forward() -> None:
    model = build_model("mlp", (64,), 10, hidden=(64, 64), seed=0)
    forward = inference_flops_per_sample(model, (64,))
    backward = training_flops_per_sample(model, (64,), num_outputs=10) - forward
    # Weight gradients everywhere, input gradients for all but the first layer.
    assert backward == 2 * forward - 2 * 64 * 64
    assert 1.5 < backward / forward <= 2.0


def test_cnn_forward_flops_match_the_convolution_formula() -> None:
    model = build_model("cnn", (1, 8, 8), 10, hidden=(4, 8), seed=0)
    conv1 = 2 * (8 * 8) * 4 * (1 * 3 * 3)
    conv2 = 2 * (4 * 4) * 8 * (4 * 3 * 3)
    head = 2 * (8 * 2 * 2) * 10
    assert inference_flops_per_sample(model, (1, 8, 8)) == conv1 + conv2 + head


def _rnn_forward_flops(gates: int, seq: int, feat: int, hidden: int, layers: int) -> int:
    per_step = gates * hidden * feat + gates * hidden * hidden
    per_step += (layers - 1) * 2 * gates * hidden * hidden
    return 2 * seq * per_step


@pytest.mark.parametrize(("kind", "gates"), [("gru", 3), ("lstm", 4)])
def test_recurrent_forward_flops_count_the_recurrent_matmuls(kind: str, gates: int) -> None:
    model = build_model(kind, (10, 5), 3, hidden=(16, 16), seed=0)
    expected = _rnn_forward_flops(gates, 10, 5, 16, 2) + 2 * 16 * 3
    assert inference_flops_per_sample(model, (10, 5)) == expected


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_recurrent_training_flops_are_two_to_three_times_forward(kind: str) -> None:
    model = build_model(kind, (10, 5), 1, hidden=(16,), seed=0)
    forward = inference_flops_per_sample(model, (10, 5), task="regression")
    training = training_flops_per_sample(model, (10, 5), task="regression")
    assert 2.5 * forward <= training <= 3.0 * forward


def test_counting_leaves_the_model_untouched() -> None:
    model = build_model("mlp", (64,), 10, seed=0)
    before = get_flat(model)
    training_flops_per_sample(model, (64,))
    assert torch.equal(get_flat(model), before)
    assert all(p.grad is None for p in model.parameters())


def test_wrong_num_outputs_is_reported() -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    with pytest.raises(SimflError, match=r"not \(4, 3\); pass the model's num_outputs"):
        training_flops_per_sample(model, (64,), num_outputs=3)


def test_wrong_input_shape_is_reported() -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    with pytest.raises(SimflError, match=r"does not accept input of shape \(32,\)"):
        inference_flops_per_sample(model, (32,))


def test_architecture_count_equals_counting_the_model() -> None:
    model = build_model("cnn", (1, 8, 8), 10, hidden=(4, 8), seed=3)
    counted = (training_flops_per_sample(model, (1, 8, 8)),
               inference_flops_per_sample(model, (1, 8, 8)))
    assert architecture_flops_per_sample("cnn", (4, 8), (1, 8, 8), 10) == counted


def test_architecture_count_is_remembered_per_architecture() -> None:
    architecture_flops_per_sample.cache_clear()
    architecture_flops_per_sample("mlp", (16,), (64,), 10)
    architecture_flops_per_sample("mlp", (16,), (64,), 10)
    architecture_flops_per_sample("mlp", (32,), (64,), 10)
    info = architecture_flops_per_sample.cache_info()
    assert (info.hits, info.misses) == (1, 2)


def test_counting_does_not_import_dynamo() -> None:
    code = ("import sys; from simfl.learning.flops import architecture_flops_per_sample as f; "
            "f('mlp', (8,), (64,), 10); print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_a_context_encoder_is_a_different_architecture() -> None:
    plain = architecture_flops_per_sample("gru_per_step", (8,), (10, 6), 1, "regression")
    with_context = architecture_flops_per_sample("gru_per_step", (8,), (10, 6), 1,
                                                 "regression", context_features=3)
    model = build_model("gru_per_step", (10, 6), 1, hidden=(8,), seed=0, context_features=3)
    assert with_context == (training_flops_per_sample(model, (10, 6), "regression"),
                            inference_flops_per_sample(model, (10, 6), "regression"))
    assert with_context != plain
