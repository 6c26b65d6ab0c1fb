"""Tests of simfl.learning.fused: FuseFL's stage models, fused blocks and final model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from simfl.errors import SimflError
from simfl.learning.blocks import BlockModel, scaled_hidden, split_blocks
from simfl.learning.flops import part_flops_per_sample, training_flops_per_sample
from simfl.learning.fused import (
    FusedBlock,
    StageModel,
    first_stage,
    fuse,
    fused_model,
    make_adaptor,
    next_stage,
    stage_flops,
)
from simfl.learning.training import TrainConfig, train_local

IMAGE = (3, 8, 8)
FLOAT_TOL = 1e-5


def _clients(kind: str, shape: tuple[int, ...], hidden: tuple[int, ...], k: int, m: int
             ) -> list[BlockModel]:
    return [split_blocks(kind, shape, 4, num_blocks=k, hidden=hidden, seed=s) for s in range(m)]


def _run_stages(
    clients: list[BlockModel], adaptor: str, *, train: bool = False, freeze_bn_stats: bool = True,
) -> tuple[list[StageModel], list[FusedBlock]]:
    """Walk every stage (optionally training a few steps); return last stages and F^1..F^K."""
    m = len(clients)
    stages = [first_stage(c, num_clients=m, adaptor=adaptor, freeze_bn_stats=freeze_bn_stats)
              for c in clients]
    shape = clients[0].feature_shapes
    x = torch.randn(12, *IMAGE) if len(shape[0]) == 3 else torch.randn(12, 64)
    y = torch.randint(0, 4, (12,))
    fused: list[FusedBlock] = []
    for k in range(1, clients[0].num_blocks + 1):
        if train:
            for i, s in enumerate(stages):
                train_local(s, x, y, TrainConfig(batch_size=6), np.random.default_rng(i))
        fused.append(fuse([s.upload() for s in stages]))
        if k < clients[0].num_blocks:
            stages = [next_stage(s, fused[-1], seed=10 * k + i) for i, s in enumerate(stages)]
    return stages, fused


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("adaptor", ["conv1x1", "avg"])
def test_resnet_fused_forward_shapes(m: int, k: int, adaptor: str) -> None:
    clients = _clients("resnet8", IMAGE, (2,), k, m)
    stages, fused = _run_stages(clients, adaptor)
    x = torch.randn(5, *IMAGE)
    assert stages[0].stage == k
    c, h, w = clients[0].feature_shapes[k - 2]
    assert stages[0].frozen_features(x).shape == (5, m * c, h, w)
    assert stages[0](x).shape == (5, 4)
    final = fused_model(fused, [s.head.classifier for s in stages])
    assert [out.shape for out in final.fused(x)] == [(5, 8)] * m
    assert final.features(x).shape == (5, 8)
    assert final(x).shape == (5, 4)


@pytest.mark.parametrize("adaptor", ["linear", "avg"])
def test_mlp_fused_forward_shapes(adaptor: str) -> None:
    clients = _clients("mlp", (64,), (6, 6, 6), 3, 3)
    stages, fused = _run_stages(clients, adaptor)
    x = torch.randn(5, 64)
    assert stages[0].frozen_features(x).shape == (5, 18)
    final = fused_model(fused, [s.head.classifier for s in stages])
    assert final(x).shape == (5, 4)


def test_cnn_fuses_two_blocks_with_a_conv1x1_adaptor() -> None:
    clients = _clients("cnn", (3, 8, 8), (4, 6), 2, 3)
    stages, fused = _run_stages(clients, "conv1x1")
    assert stages[0].frozen_features(torch.randn(2, *IMAGE)).shape == (2, 12, 4, 4)
    assert fused_model(fused, [s.head.classifier for s in stages])(torch.randn(2, *IMAGE)).shape \
        == (2, 4)


def test_identical_clients_with_avg_adaptors_and_mean_compute_one_model() -> None:
    client = split_blocks("resnet8", IMAGE, 4, num_blocks=3, hidden=(2,), seed=0).eval()
    clients = [copy.deepcopy(client) for _ in range(3)]
    _, fused = _run_stages(clients, "avg")
    final = fused_model(fused, [c.classifier for c in clients], combine="mean").eval()
    x = torch.randn(5, *IMAGE)
    assert torch.allclose(final(x), client(x), atol=FLOAT_TOL)


def test_fused_classifier_is_the_mean_over_the_sum_of_features() -> None:
    clients = _clients("mlp", (64,), (6, 6), 2, 3)
    stages, fused = _run_stages(clients, "linear")
    classifiers = [s.head.classifier for s in stages]
    final = fused_model(fused, classifiers).eval()
    x = torch.randn(4, 64)
    total = torch.stack(fused[1](fused[0](x))).sum(dim=0)
    weight = torch.stack([c.weight for c in classifiers]).mean(dim=0)
    bias = torch.stack([c.bias for c in classifiers]).mean(dim=0)
    assert torch.allclose(final(x), total @ weight.T + bias, atol=FLOAT_TOL)


def test_weighted_classifier_average() -> None:
    clients = _clients("mlp", (64,), (6, 6), 2, 2)
    stages, fused = _run_stages(clients, "avg")
    classifiers = [s.head.classifier for s in stages]
    final = fused_model(fused, classifiers, weights=[3, 1])
    expected = 0.75 * classifiers[0].weight + 0.25 * classifiers[1].weight
    assert torch.allclose(final.classifier.weight, expected, atol=FLOAT_TOL)


def test_frozen_blocks_do_not_change_while_a_stage_trains() -> None:
    clients = _clients("resnet8", IMAGE, (2,), 3, 2)
    stages, _ = _run_stages(clients, "conv1x1")
    stage = stages[0]
    frozen = {k: v.clone() for k, v in stage.fused.state_dict().items()}
    stage.train()
    assert not any(m.training for m in stage.fused.modules())
    assert not any(p.requires_grad for p in stage.fused.parameters())
    x, y = torch.randn(12, *IMAGE), torch.randint(0, 4, (12,))
    before_head = [p.clone() for p in stage.head.parameters()]
    train_local(stage, x, y, TrainConfig(batch_size=6), np.random.default_rng(0))
    assert all(torch.equal(v, stage.fused.state_dict()[k]) for k, v in frozen.items())
    assert any(not torch.equal(a, b) for a, b in zip(before_head, stage.head.parameters(),
                                                     strict=True))


def test_official_mode_updates_frozen_batchnorm_statistics_only() -> None:
    clients = _clients("resnet8", IMAGE, (2,), 2, 2)
    stages, fused = _run_stages(clients, "avg", freeze_bn_stats=False)
    params = [p.clone() for p in fused[0].parameters()]
    stats = [b.clone() for n, b in fused[0].named_buffers() if "running_mean" in n]
    x, y = torch.randn(12, *IMAGE), torch.randint(0, 4, (12,))
    train_local(stages[0], x, y, TrainConfig(batch_size=6), np.random.default_rng(0))
    assert all(torch.equal(a, b) for a, b in zip(params, fused[0].parameters(), strict=True))
    after = [b for n, b in fused[0].named_buffers() if "running_mean" in n]
    assert all(not torch.equal(a, b) for a, b in zip(stats, after, strict=True))


def test_fuse_copies_the_uploaded_branches() -> None:
    clients = _clients("mlp", (64,), (6, 6), 2, 2)
    stages = [first_stage(c, num_clients=2, adaptor="avg") for c in clients]
    block = fuse([s.upload() for s in stages])
    with torch.no_grad():
        next(stages[0].upload().parameters()).add_(1.0)
    assert not torch.equal(next(block.parameters()), next(stages[0].upload().parameters()))


def test_next_stage_keeps_the_clients_later_blocks_and_classifier() -> None:
    client = _clients("mlp", (64,), (6, 6, 6), 3, 1)[0]
    stage = first_stage(client, num_clients=1, adaptor="linear")
    second = next_stage(stage, fuse([stage.upload()]), seed=0)
    assert second.head.branch.block is client.blocks[1]
    assert second.head.classifier is client.classifier


def test_fused_model_parameters_are_about_one_model_with_scaled_widths() -> None:
    m, base = 4, (16,)
    one = sum(p.numel() for p in split_blocks("resnet8", IMAGE, 4, num_blocks=2, hidden=base,
                                              seed=0).parameters())
    clients = _clients("resnet8", IMAGE, scaled_hidden(base, m), 2, m)
    stages, fused = _run_stages(clients, "avg")
    final = fused_model(fused, [s.head.classifier for s in stages])
    ratio = sum(p.numel() for p in final.parameters()) / one
    assert 0.9 < ratio < 1.1


def test_stage_flops_are_frozen_forward_plus_head_training() -> None:
    clients = _clients("resnet8", IMAGE, (2,), 3, 2)
    stages, _ = _run_stages(clients, "conv1x1")
    stage = stages[0]
    flops = stage_flops(stage, IMAGE)
    concat_shape = tuple(stage.frozen_features(torch.zeros(1, *IMAGE)).shape[1:])
    assert flops.frozen_forward_per_sample == part_flops_per_sample(stage.fused, IMAGE,
                                                                    train=False)
    assert flops.trainable_training_per_sample == part_flops_per_sample(
        stage.head, concat_shape, train=True)
    assert flops.total_per_sample == training_flops_per_sample(stage, IMAGE)


def test_first_stage_flops_are_the_whole_models_training() -> None:
    client = _clients("resnet8", IMAGE, (2,), 2, 1)[0]
    flops = stage_flops(first_stage(client, num_clients=3, adaptor="avg"), IMAGE)
    assert flops.frozen_forward_per_sample == 0
    assert flops.trainable_training_per_sample == training_flops_per_sample(client, IMAGE)


def test_conv1x1_adaptor_refuses_flat_features() -> None:
    with pytest.raises(SimflError, match=r"needs \(C, H, W\) features .* use 'linear' or 'avg'"):
        make_adaptor("conv1x1", 3, (16,), seed=0)


def test_linear_adaptor_refuses_image_features() -> None:
    with pytest.raises(SimflError, match=r"needs flat .* use 'conv1x1' or 'avg'"):
        make_adaptor("linear", 3, (4, 2, 2), seed=0)


def test_unknown_adaptor_lists_the_valid_ones() -> None:
    client = _clients("mlp", (64,), (6, 6), 2, 1)[0]
    with pytest.raises(SimflError, match="valid adaptors: conv1x1, linear, avg"):
        first_stage(client, num_clients=2, adaptor="mlp")


def test_no_stage_after_the_last_block() -> None:
    client = _clients("mlp", (64,), (6, 6), 2, 1)[0]
    stage = next_stage(first_stage(client, num_clients=1, adaptor="avg"),
                       fuse([first_stage(client, num_clients=1, adaptor="avg").upload()]), seed=0)
    with pytest.raises(SimflError, match="build the final model with fused_model"):
        next_stage(stage, fuse([stage.upload()]), seed=0)


def test_fused_block_must_have_one_branch_per_client() -> None:
    clients = _clients("mlp", (64,), (6, 6), 2, 2)
    stage = first_stage(clients[0], num_clients=2, adaptor="avg")
    with pytest.raises(SimflError, match="needs 2 branches of stage 1"):
        next_stage(stage, fuse([stage.upload()]), seed=0)
