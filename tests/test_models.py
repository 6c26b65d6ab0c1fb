"""Tests of simfl.learning.models."""

from __future__ import annotations

import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.models import MODEL_KINDS, build_model
from simfl.learning.params import get_flat

SHAPES = {
    "logreg": (64,),
    "mlp": (1, 8, 8),
    "cnn": (1, 8, 8),
    "gru": (6, 3),
    "lstm": (6, 3),
    "resnet8": (3, 8, 8),
    "resnet18": (3, 8, 8),
    "lstm_per_step": (6, 3),
    "gru_per_step": (6, 3),
}


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_kind_maps_a_batch_to_outputs(kind: str) -> None:
    hidden = (4,) if kind.startswith("resnet") else (8, 8)
    outputs = 1 if kind.endswith("_per_step") else 7
    model = build_model(kind, SHAPES[kind], outputs, hidden=hidden, seed=0)
    out = model(torch.zeros(5, *SHAPES[kind]))
    assert out.shape == ((5, 6) if kind.endswith("_per_step") else (5, 7))


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_cnn_works_for_digits_mnist_and_cifar_shapes(shape: tuple[int, ...]) -> None:
    model = build_model("cnn", shape, 10, hidden=(4, 8), seed=0)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)


def test_mlp_layers_follow_hidden() -> None:
    model = build_model("mlp", (64,), 10, hidden=(32, 16), seed=0)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 10)]


def test_stacked_rnn_layers_follow_hidden() -> None:
    model = build_model("lstm", (6, 3), 1, hidden=(12, 12, 12), seed=0)
    rnn = model.get_submodule("rnn")
    assert isinstance(rnn, torch.nn.LSTM)
    assert rnn.num_layers == 3 and rnn.hidden_size == 12


def test_same_seed_gives_bitwise_equal_weights() -> None:
    a = build_model("cnn", (1, 8, 8), 10, seed=3)
    b = build_model("cnn", (1, 8, 8), 10, seed=3)
    c = build_model("cnn", (1, 8, 8), 10, seed=4)
    assert torch.equal(get_flat(a), get_flat(b))
    assert not torch.equal(get_flat(a), get_flat(c))


def test_global_torch_rng_is_left_untouched() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_model("mlp", (64,), 10, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_unknown_kind_lists_valid_kinds() -> None:
    with pytest.raises(SimflError, match="valid kinds: logreg, mlp, cnn, gru, lstm"):
        build_model("resnet", (64,), 10, seed=0)


def test_cnn_rejects_flat_input() -> None:
    with pytest.raises(SimflError, match=r"must be \(channels, height, width\)"):
        build_model("cnn", (64,), 10, seed=0)


def test_rnn_rejects_unequal_widths() -> None:
    with pytest.raises(SimflError, match="stacked recurrent layers share one width"):
        build_model("gru", (6, 3), 1, hidden=(8, 16), seed=0)
