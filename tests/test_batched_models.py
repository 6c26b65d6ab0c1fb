"""Tests of simfl.learning.batched_models (and the recurrent layers it uses)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simfl.learning.batched_models import batched_support, stacked_form
from simfl.learning.models import build_model
from simfl.learning.params import get_flat

#: Stacked vs per-model outputs: float32 rounding of differently ordered sums.
OUTPUT_ATOL = 1e-5

KINDS = [
    ("logreg", (64,), (8,)),
    ("mlp", (64,), (16, 8)),
    ("mlp", (1, 8, 8), (16,)),
    ("cnn", (1, 8, 8), (4, 8)),
    ("cnn", (3, 12, 12), (4, 6)),
    ("gru", (8, 8), (12, 12)),
    ("lstm", (8, 8), (12,)),
]


@pytest.mark.parametrize(("kind", "shape", "hidden"), KINDS)
def test_stacked_forward_equals_each_models_forward(
    kind: str, shape: tuple[int, ...], hidden: tuple[int, ...]
) -> None:
    models = [build_model(kind, shape, 5, hidden=hidden, seed=s) for s in range(3)]
    form = stacked_form(models[0], shape)
    assert form is not None
    x = torch.rand((3, 7, *shape), generator=torch.Generator().manual_seed(0))
    out = form.forward(form.split(torch.stack([get_flat(m) for m in models])), x)
    with torch.no_grad():
        expected = torch.stack([m(x[i]) for i, m in enumerate(models)])
    assert out.shape == (3, 5, 7)
    assert torch.allclose(out.transpose(1, 2), expected, atol=OUTPUT_ATOL)


def test_stacked_gradients_are_each_clients_own() -> None:
    models = [build_model("mlp", (6,), 3, hidden=(4,), seed=s) for s in range(2)]
    form = stacked_form(models[0], (6,))
    assert form is not None
    flat = torch.stack([get_flat(m) for m in models]).requires_grad_()
    x = torch.rand((2, 5, 6), generator=torch.Generator().manual_seed(1))
    out = form.forward(form.split(flat), x)
    out[0].sum().backward()  # only client 0's outputs
    assert flat.grad is not None
    assert flat.grad[0].abs().sum() > 0
    assert torch.equal(flat.grad[1], torch.zeros_like(flat.grad[1]))


def test_split_views_share_the_stacked_storage() -> None:
    model = build_model("logreg", (4,), 2, seed=0)
    form = stacked_form(model)
    assert form is not None
    flat = torch.zeros(3, form.num_parameters)
    weight, _bias = form.split(flat)
    weight[1].fill_(2.0)
    assert flat[1, :8].eq(2.0).all() and flat[0].eq(0.0).all()


@pytest.mark.parametrize(("kind", "shape", "hidden"), KINDS)
def test_every_build_model_kind_is_supported(
    kind: str, shape: tuple[int, ...], hidden: tuple[int, ...]
) -> None:
    assert batched_support(build_model(kind, shape, 5, hidden=hidden, seed=0), shape)


def test_module_with_buffers_is_not_supported() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    assert not batched_support(model)


def test_unknown_layer_is_not_supported() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    assert not batched_support(model, (4,))


def test_frozen_parameter_is_not_supported() -> None:
    model = build_model("mlp", (4,), 2, hidden=(3,), seed=0)
    model[1].bias.requires_grad_(False)
    assert not batched_support(model, (4,))


def test_float64_model_is_not_supported() -> None:
    assert not batched_support(build_model("logreg", (4,), 2, seed=0).double(), (4,))


def test_custom_module_is_not_supported() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * self.lin(x)

    assert not batched_support(Twice(), (4,))


def test_form_that_does_not_reproduce_the_model_is_rejected() -> None:
    # Linear straight on images: nn.Linear acts on the last axis, the stacked form cannot
    model = nn.Sequential(nn.Linear(8, 2))
    assert batched_support(model)  # the layers alone are covered ...
    assert not batched_support(model, (1, 8, 8))  # ... but not on this input shape
