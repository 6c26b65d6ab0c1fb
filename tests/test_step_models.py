"""Tests of simfl.learning.step_models: per-step heart-rate regressors with context."""

from __future__ import annotations

import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.models import build_model
from simfl.learning.params import get_flat

OUT_TOL = 1e-5


@pytest.mark.parametrize("kind", ["lstm_per_step", "gru_per_step"])
def test_one_prediction_per_step(kind: str) -> None:
    model = build_model(kind, (6, 3), 1, hidden=(8, 8), seed=0)
    assert model(torch.zeros(5, 6, 3)).shape == (5, 6)


def test_predictions_are_in_the_targets_unit() -> None:
    model = build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0,
                        target_scale=(120.0, 20.0))
    head = model.get_submodule("head")
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    with torch.no_grad():
        out = model(torch.randn(2, 4, 3))
    assert out.numpy() == pytest.approx(120.0, abs=OUT_TOL)


def test_the_scale_is_not_part_of_the_sent_state() -> None:
    plain = build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0)
    scaled = build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0,
                         target_scale=(120.0, 20.0))
    assert torch.equal(get_flat(plain), get_flat(scaled))


def test_context_channels_go_through_their_own_encoder() -> None:
    model = build_model("lstm_per_step", (4, 7), 1, hidden=(8,), seed=0, context_features=4)
    assert model.get_submodule("rnn").input_size == 3 + 32
    assert model.get_submodule("context").input_size == 4
    x = torch.randn(2, 4, 7)
    changed = x.clone()
    changed[..., 3:] += 1.0
    assert not torch.allclose(model(x), model(changed))


def test_context_must_leave_step_inputs() -> None:
    with pytest.raises(SimflError, match=r"context_features=3 must leave"):
        build_model("lstm_per_step", (4, 3), 1, hidden=(8,), seed=0, context_features=3)


def test_per_step_kinds_predict_one_target() -> None:
    with pytest.raises(SimflError, match=r"num_outputs=2 must be 1"):
        build_model("gru_per_step", (4, 3), 2, hidden=(8,), seed=0)
