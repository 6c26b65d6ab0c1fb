"""Tests of simfl.learning.params."""

from __future__ import annotations

import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, num_parameters, payload_bytes, set_flat


def _mlp(seed: int = 0) -> torch.nn.Module:
    return build_model("mlp", (64,), 10, hidden=(64, 64), seed=seed)


def test_num_parameters_of_mlp_64_64_10() -> None:
    assert num_parameters(_mlp()) == 64 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10


def test_get_flat_is_a_detached_float32_copy() -> None:
    model = _mlp()
    flat = get_flat(model)
    assert flat.shape == (num_parameters(model),) and flat.dtype == torch.float32
    assert not flat.requires_grad
    flat.zero_()
    assert get_flat(model).abs().sum() > 0


def test_set_flat_round_trips_between_models() -> None:
    a, b = _mlp(1), _mlp(2)
    set_flat(b, get_flat(a))
    assert torch.equal(get_flat(a), get_flat(b))
    x = torch.rand(3, 64)
    assert torch.equal(a(x), b(x))


def test_set_flat_records_no_autograd_history() -> None:
    model = _mlp()
    vec = get_flat(model).requires_grad_(True)
    set_flat(model, vec * 2)
    assert all(p.grad_fn is None and p.is_leaf for p in model.parameters())


def test_set_flat_rejects_wrong_length() -> None:
    with pytest.raises(SimflError, match="does not fit a model with 8970 state values"):
        set_flat(_mlp(), torch.zeros(10))


def test_payload_bytes_of_model_tensor_and_list() -> None:
    model = _mlp()
    n = num_parameters(model)
    assert payload_bytes(model) == 4 * n
    assert payload_bytes(get_flat(model)) == 4 * n
    assert payload_bytes([torch.zeros(3), torch.zeros(2, dtype=torch.float64)]) == 12 + 16


def test_payload_bytes_is_dtype_aware() -> None:
    flat = get_flat(_mlp())
    assert payload_bytes(flat.half()) * 2 == payload_bytes(flat)
    assert payload_bytes(flat.to(torch.int8)) * 4 == payload_bytes(flat)


def test_payload_bytes_rejects_other_objects() -> None:
    with pytest.raises(SimflError, match="got a str"):
        payload_bytes(["weights"])  # type: ignore[list-item]


def test_state_includes_batchnorm_statistics_after_the_parameters() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model.train()
    model(torch.randn(8, 3))  # moves the running statistics
    vec = get_flat(model)
    assert vec.numel() == num_parameters(model) + 4 + 4  # running mean and variance
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    set_flat(fresh, vec)
    assert torch.equal(fresh[1].running_var, model[1].running_var)
    assert payload_bytes(model) == 4 * vec.numel()
