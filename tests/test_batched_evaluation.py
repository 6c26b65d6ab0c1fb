"""Tests of simfl.learning.batched_evaluation: batched == evaluate, model by model."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.batched_evaluation import evaluate_batched, evaluate_batched_each
from simfl.learning.builtin import load_digits
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, set_flat
from simfl.learning.training import evaluate

#: Relative tolerance of losses: float32 sums in a different order (measured <= 2e-7).
LOSS_RTOL = 1e-5


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_digits(image=True)
    return torch.from_numpy(data.x), torch.from_numpy(data.y)


def _expected(
    model: nn.Module,
    vectors: torch.Tensor,
    tests: list[tuple[torch.Tensor, torch.Tensor]],
    task: str,
    batch_size: int,
) -> list[dict[str, float]]:
    local = copy.deepcopy(model)
    out = []
    for vec, (x, y) in zip(vectors, tests, strict=True):
        set_flat(local, vec)
        out.append(evaluate(local, x, y, task, batch_size))
    return out


def _assert_match(got: list[dict[str, float]], expected: list[dict[str, float]]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.keys() == e.keys()
        for key in e:
            if key == "accuracy":
                assert g[key] == e[key]
            else:
                assert g[key] == pytest.approx(e[key], rel=LOSS_RTOL)


def _vectors(kind: str, shape: tuple[int, ...], hidden: tuple[int, ...], outputs: int = 10
             ) -> tuple[nn.Module, torch.Tensor]:
    models = [build_model(kind, shape, outputs, hidden=hidden, seed=s) for s in range(4)]
    return models[0], torch.stack([get_flat(m) for m in models])


@pytest.mark.parametrize(
    ("kind", "shape", "hidden"),
    [("mlp", (64,), (16,)), ("cnn", (1, 8, 8), (4, 8)), ("gru", (8, 8), (8,))],
)
def test_shared_test_set_matches_evaluate(
    digits: tuple[torch.Tensor, torch.Tensor],
    kind: str,
    shape: tuple[int, ...],
    hidden: tuple[int, ...],
) -> None:
    model, vectors = _vectors(kind, shape, hidden)
    x, y = digits[0][:700].reshape(700, *shape), digits[1][:700]
    got = evaluate_batched(model, vectors, x, y, batch_size=256)
    _assert_match(got, _expected(model, vectors, [(x, y)] * 4, "classification", 256))


def test_own_test_sets_of_unequal_sizes_match_evaluate(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model, vectors = _vectors("mlp", (64,), (16,))
    x, y = digits[0].reshape(-1, 64), digits[1]
    tests = [(x[:300], y[:300]), (x[300:301], y[300:301]), (x[400:450], y[400:450]),
             (x[:700], y[:700])]
    got = evaluate_batched_each(model, vectors, tests, batch_size=128)
    _assert_match(got, _expected(model, vectors, tests, "classification", 128))


@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_matches_evaluate(
    digits: tuple[torch.Tensor, torch.Tensor], outputs: int
) -> None:
    model, vectors = _vectors("mlp", (64,), (8,), outputs)
    x, target = digits[0][:300].reshape(300, 64), digits[1][:300].float()
    y = target if outputs == 1 else torch.stack([target, -target], 1)
    tests = [(x, y), (x[:50], y[:50]), (x, y), (x[7:9], y[7:9])]
    got = evaluate_batched_each(model, vectors, tests, "regression", batch_size=128)
    _assert_match(got, _expected(model, vectors, tests, "regression", 128))


def test_uncovered_model_is_evaluated_one_by_one(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Tanh(), nn.Linear(8, 10))
    vectors = torch.stack([get_flat(model), get_flat(model) * 2])
    x, y = digits[0][:100].reshape(100, 64), digits[1][:100]
    got = evaluate_batched(model, vectors, x, y)
    assert got == _expected(model, vectors, [(x, y)] * 2, "classification", 1024)


def test_vectors_of_another_architecture_are_rejected(
    digits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    model = build_model("logreg", (64,), 10, seed=0)
    x, y = digits[0][:10].reshape(10, 64), digits[1][:10]
    with pytest.raises(SimflError, match=r"pass \(n_models, 650\) vectors"):
        evaluate_batched(model, torch.zeros(2, 9), x, y)


def test_one_test_set_per_model_is_required(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    model, vectors = _vectors("logreg", (64,), ())
    x, y = digits[0][:10].reshape(10, 64), digits[1][:10]
    with pytest.raises(SimflError, match="one test set per model"):
        evaluate_batched_each(model, vectors, [(x, y)])
