"""Tests of simfl.learning.blocks: cutting models into blocks, block sizes and FLOPs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.blocks import (
    block_stats,
    scaled_hidden,
    scaled_width,
    split_blocks,
    state_bytes,
)
from simfl.learning.flops import inference_flops_per_sample, training_flops_per_sample
from simfl.learning.models import build_model
from simfl.learning.params import get_flat

# (kind, input shape, hidden, K): every splittable kind, tiny widths.
CASES = [
    ("mlp", (64,), (8, 8, 8), 2),
    ("mlp", (64,), (8, 8, 8), 3),
    ("cnn", (1, 8, 8), (4, 8), 2),
    ("resnet8", (3, 8, 8), (4,), 2),
    ("resnet8", (3, 8, 8), (4,), 4),
    ("resnet18", (3, 8, 8), (2,), 3),
]
IDS = [f"{c[0]}-K{c[3]}" for c in CASES]


@pytest.mark.parametrize(("kind", "shape", "hidden", "k"), CASES, ids=IDS)
def test_block_model_computes_the_unsplit_function(
    kind: str, shape: tuple[int, ...], hidden: tuple[int, ...], k: int
) -> None:
    whole = build_model(kind, shape, 5, hidden=hidden, seed=4).eval()
    split = split_blocks(kind, shape, 5, num_blocks=k, hidden=hidden, seed=4).eval()
    x = torch.randn(3, *shape)
    assert split.num_blocks == k
    assert torch.equal(split(x), whole(x))


@pytest.mark.parametrize(("kind", "shape", "hidden", "k"), CASES, ids=IDS)
def test_reassembled_blocks_compute_the_unsplit_function(
    kind: str, shape: tuple[int, ...], hidden: tuple[int, ...], k: int
) -> None:
    whole = build_model(kind, shape, 5, hidden=hidden, seed=4).eval()
    split = split_blocks(kind, shape, 5, num_blocks=k, hidden=hidden, seed=4)
    reassembled = nn.Sequential(*split.blocks, split.classifier).eval()
    x = torch.randn(3, *shape)
    assert torch.equal(reassembled(x), whole(x))


def test_split_keeps_the_seeded_initial_weights_bitwise() -> None:
    whole = build_model("resnet8", (3, 8, 8), 5, hidden=(4,), seed=9)
    split = split_blocks("resnet8", (3, 8, 8), 5, num_blocks=3, hidden=(4,), seed=9)
    assert torch.equal(get_flat(split), get_flat(whole))


def test_splitting_leaves_batchnorm_statistics_and_mode_alone() -> None:
    split = split_blocks("resnet8", (3, 8, 8), 5, num_blocks=2, hidden=(4,), seed=0)
    fresh = build_model("resnet8", (3, 8, 8), 5, hidden=(4,), seed=0)
    assert split.training
    assert all(m.training for m in split.modules())
    buffers = dict(fresh.named_buffers())
    assert sum(b.sum() for b in split.buffers()) == sum(b.sum() for b in buffers.values())


@pytest.mark.parametrize(
    ("kind", "k", "expected"),
    [
        ("resnet18", 2, (4,)),
        ("resnet18", 3, (0, 4)),
        ("resnet18", 4, (0, 4, 6)),
        ("resnet8", 2, (2,)),
        ("resnet8", 3, (0, 2)),
        ("resnet8", 4, (0, 1, 2)),
    ],
)
def test_resnet_split_points_are_the_named_ones(
    kind: str, k: int, expected: tuple[int, ...]
) -> None:
    split = split_blocks(kind, (3, 8, 8), 5, num_blocks=k, hidden=(2,), seed=0)
    assert split.split_after == expected


@pytest.mark.parametrize(("k", "expected"), [(1, ()), (2, (1,)), (3, (0, 1))])
def test_three_layer_mlp_split_points_follow_the_official_table(
    k: int, expected: tuple[int, ...]
) -> None:
    split = split_blocks("mlp", (64,), 5, num_blocks=k, hidden=(8, 8, 8), seed=0)
    assert split.split_after == expected


def test_explicit_split_points_override_the_named_ones() -> None:
    split = split_blocks("resnet18", (3, 8, 8), 5, num_blocks=2, hidden=(2,), seed=0,
                         split_after=(6,))
    assert split.split_after == (6,)
    # Unit 6 ends the third stage: 4w channels at a quarter of the resolution.
    assert split.feature_shapes[0] == (8, 2, 2)


def test_resnet18_official_width_uploads_about_6_percent_then_94() -> None:
    split = split_blocks("resnet18", (3, 32, 32), 10, num_blocks=2, hidden=(20,), seed=0)
    first = sum(p.numel() for p in split.blocks[0].parameters())
    total = sum(p.numel() for p in split.parameters())
    assert 0.05 < first / total < 0.07


@pytest.mark.parametrize(("kind", "shape", "hidden", "k"), CASES, ids=IDS)
def test_block_sizes_and_flops_add_up_to_the_whole_model(
    kind: str, shape: tuple[int, ...], hidden: tuple[int, ...], k: int
) -> None:
    whole = build_model(kind, shape, 5, hidden=hidden, seed=0)
    stats = block_stats(split_blocks(kind, shape, 5, num_blocks=k, hidden=hidden, seed=0), shape)
    assert [s.name for s in stats] == [f"block{i + 1}" for i in range(k)] + ["classifier"]
    assert sum(s.num_parameters for s in stats) == sum(p.numel() for p in whole.parameters())
    assert sum(s.size_bytes for s in stats) == state_bytes(whole)
    assert sum(s.forward_flops_per_sample for s in stats) == inference_flops_per_sample(
        whole, shape)
    assert sum(s.training_flops_per_sample for s in stats) == training_flops_per_sample(
        whole, shape)


def test_bytes_count_batchnorm_statistics_in_the_payload_dtype() -> None:
    split = split_blocks("resnet8", (3, 8, 8), 5, num_blocks=2, hidden=(4,), seed=0)
    block = split_blocks("resnet8", (3, 8, 8), 5, num_blocks=2, hidden=(4,), seed=0).blocks[0]
    params = sum(p.numel() for p in block.parameters())
    running = sum(b.numel() for n, b in block.named_buffers() if "running" in n)
    first = block_stats(split, (3, 8, 8), payload_dtype=torch.float16)[0]
    assert first.num_buffer_values == running
    assert first.size_bytes == 2 * (params + running)


def test_default_scaling_divides_widths_by_sqrt_clients() -> None:
    assert scaled_width(64, 5) == 29
    assert scaled_hidden((64, 32), 4) == (32, 16)
    assert scaled_width(1, 100) == 1


def test_gru_cannot_be_split() -> None:
    with pytest.raises(SimflError, match="splittable kinds: mlp, cnn, resnet8, resnet18"):
        split_blocks("gru", (6, 3), 1, num_blocks=2, hidden=(8,), seed=0)


def test_cnn_has_at_most_two_blocks() -> None:
    with pytest.raises(SimflError, match=r"K=3 blocks from 2 units; K must be in 1\.\.2"):
        split_blocks("cnn", (1, 8, 8), 5, num_blocks=3, hidden=(4, 8), seed=0)


def test_resnet_without_named_points_lists_valid_k() -> None:
    with pytest.raises(SimflError, match="no named split points for K=5; valid K: 1, 2, 3, 4"):
        split_blocks("resnet18", (3, 8, 8), 5, num_blocks=5, hidden=(2,), seed=0)


def test_split_points_must_increase_within_the_units() -> None:
    with pytest.raises(SimflError, match=r"give K-1 strictly increasing unit indices in 0\.\.2"):
        split_blocks("resnet8", (3, 8, 8), 5, num_blocks=3, hidden=(2,), seed=0,
                     split_after=(2, 1))
