"""Tests of FuseFL as a timed algorithm: stage bytes, compute, ordering, freezing, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from simfl.algorithms.oneshot.fusefl import (
    FuseFL,
    resolve_adaptor,
    resolve_blocks,
    stage_epochs,
)
from simfl.errors import SimflError
from simfl.learning.blocks import block_stats, scaled_hidden, split_blocks, state_bytes
from simfl.learning.fused import first_stage, fuse, make_adaptor, next_stage, stage_flops
from simfl.learning.params import get_flat
from simfl.runs.runner import RunResult, simulate
from simfl.scenario.load import scenario_from_text
from tests.conftest import REPO, trace_info

M, K, HIDDEN, SHAPE, CLASSES = 3, 2, (8, 16), (1, 8, 8), 10
SMALL_FUSEFL = f"""
name: small_fusefl
seed: 4
partition: {{num_clients: {M}, scheme: dirichlet, alpha: 0.5}}
model: {{kind: cnn, hidden: {list(HIDDEN)}}}
training: {{lr: 0.05, batch_size: 32}}
devices: {{compute: {{distribution: lognormal, flops_per_s: 20 MFLOPS, sigma: 0.5}}}}
network: {{device_cloud: {{up_rate_bps: 1 Mbps, down_rate_bps: 4 Mbps, sharing: shared}}}}
algorithm: {{name: fusefl, blocks: {K}, local_epochs: 2, virtual_per_class: 50}}
output: {{figures: false}}
"""
EPOCHS_PER_STAGE = 1
FLOP_RTOL = 1e-9


def _run(text: str = SMALL_FUSEFL, **algorithm: Any) -> RunResult:
    scenario = scenario_from_text(text)
    if algorithm:
        scenario = scenario.model_copy(update={
            "algorithm": scenario.algorithm.model_copy(update=algorithm)})
    return simulate(scenario)


@pytest.fixture(scope="module")
def run() -> RunResult:
    return _run()


def _events(result: RunResult, kind: str, what: str) -> pd.DataFrame:
    rows = result.trace[result.trace["kind"] == kind]
    info = trace_info(rows)
    keep = [i.get("what") == what for i in info]
    return rows[keep].assign(block=[i.get("block", 0) for i, k in zip(info, keep,
                                                                      strict=True) if k])


def _reference_stages() -> tuple[list[int], list[float], int]:
    """Return (upload bytes per stage, training FLOPs per sample per stage, classifier bytes)
    of one client, from the learning building blocks alone."""
    blocks = split_blocks("cnn", SHAPE, CLASSES, num_blocks=K, hidden=scaled_hidden(HIDDEN, M),
                          seed=0)
    stats = block_stats(blocks, SHAPE)
    adaptor = make_adaptor("conv1x1", M, blocks.feature_shapes[0], seed=0)
    uploads = [stats[0].size_bytes, stats[1].size_bytes + state_bytes(adaptor)]
    stage1 = first_stage(blocks, num_clients=M, adaptor="conv1x1")
    fused = fuse([stage1.upload()] * M)
    stage2 = next_stage(stage1, fused, seed=0)
    flops = [stage_flops(s, SHAPE).total_per_sample for s in (stage1, stage2)]
    return uploads, flops, stats[-1].size_bytes


def test_stage_uploads_are_the_real_uneven_block_sizes(run: RunResult) -> None:
    uploads, _, classifier = _reference_stages()
    sent = _events(run, "transfer", "block")
    assert sorted(sent.groupby("block").size().to_dict().items()) == [(1, M), (2, M)]
    assert set(sent.loc[sent["block"] == 1, "bytes"]) == {uploads[0]}
    assert set(sent.loc[sent["block"] == 2, "bytes"]) == {uploads[1] + classifier}
    assert uploads[0] != uploads[1]


def test_every_client_downloads_all_m_branches_of_each_fused_block(run: RunResult) -> None:
    uploads, _, _ = _reference_stages()
    got = _events(run, "transfer", "fused")
    assert set(got["peer"]) == {f"client-{i}" for i in range(M)}
    for k in (1, 2):
        assert list(got.loc[got["block"] == k, "bytes"]) == [M * uploads[k - 1]] * M


def test_statistics_and_classifier_bytes_and_the_total_add_up(run: RunResult) -> None:
    uploads, _, classifier = _reference_stages()
    feature_dim = scaled_hidden(HIDDEN, M)[1] * 2 * 2
    stats = _events(run, "transfer", "statistics")
    per_client = CLASSES * (1 + feature_dim + feature_dim * (feature_dim + 1) // 2) * 4
    assert list(stats["bytes"]) == [per_client] * M
    final = _events(run, "transfer", "classifier")
    assert list(final["bytes"]) == [classifier] * M
    expected = (M * (uploads[0] + uploads[1] + classifier) + M * M * sum(uploads)
                + M * per_client + M * classifier)
    assert run.summary["bytes_moved"] == expected
    assert run.summary["event_counts"]["transfer"] == 6 * M


def test_stage_compute_is_frozen_forward_plus_trainable_training(run: RunResult) -> None:
    _, flops, _ = _reference_stages()
    assert flops[1] > 0 and flops[0] != flops[1]
    comp = _events(run, "compute", "block")
    samples = [json.loads(s)["samples"] for s in comp["info"]]
    for block, done, n in zip(comp["block"], comp["flops"], samples, strict=True):
        assert done == pytest.approx(n * flops[block - 1], rel=FLOP_RTOL)
    sizes = {c.name: c.num_samples for c in run.algorithm.world.clients}
    for node, n in zip(comp["node"], samples, strict=True):
        assert n == sizes[node] * EPOCHS_PER_STAGE


def test_stage_two_starts_after_every_client_holds_fused_block_one(run: RunResult) -> None:
    fused = _events(run, "transfer", "fused")
    comp = _events(run, "compute", "block")
    uploads = _events(run, "transfer", "block")
    assert comp.loc[comp["block"] == 2, "t_start_s"].min() >= fused.loc[
        fused["block"] == 1, "t_end_s"].max()
    assert fused.loc[fused["block"] == 1, "t_start_s"].min() >= uploads.loc[
        uploads["block"] == 1, "t_end_s"].max()


def test_partial_stage_then_uncalibrated_then_final_evaluations(run: RunResult) -> None:
    m = run.metrics[run.metrics["metric"].isin(["accuracy", "bytes_moved"])]
    glob = m[m["node"] == "global"]
    assert list(glob["round"]) == [1, 2]
    assert list(m.loc[m["node"] == "fused_uncalibrated", "round"]) == [K]
    moved = m.loc[m["node"] == "network", "value"]
    assert moved.iloc[-1] == run.summary["bytes_moved"]
    assert run.summary["rounds_completed"] == K
    assert run.summary["final_metrics_t_s"] == run.summary["simulated_time_s"]


def test_same_seed_gives_the_same_trace_and_metrics(run: RunResult) -> None:
    again = _run()
    pd.testing.assert_frame_equal(run.trace, again.trace)
    pd.testing.assert_frame_equal(run.metrics, again.metrics)


RESNET = SMALL_FUSEFL.replace("kind: cnn, hidden: [8, 16]", "kind: resnet8, hidden: [6]")


def _fused_states_at_fusion(monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    """Record the state of every fused block right after the cloud fuses it."""
    seen: list[torch.Tensor] = []
    original = FuseFL._fuse

    def recording(self: FuseFL, stages: Any, k: int) -> Any:
        block = original(self, stages, k)
        seen.append(get_flat(block))
        return block

    monkeypatch.setattr(FuseFL, "_fuse", recording)
    return seen


def test_fused_blocks_do_not_change_after_freezing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _fused_states_at_fusion(monkeypatch)
    result = _run(RESNET, calibrate=False)
    final = result.algorithm.final_model
    assert len(seen) == K
    for at_fusion, block in zip(seen, final.fused.blocks, strict=True):
        assert torch.equal(at_fusion, get_flat(block))


def test_official_bn_behaviour_updates_fused_statistics_not_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _fused_states_at_fusion(monkeypatch)
    result = _run(RESNET, calibrate=False, freeze_bn_stats=False)
    first = result.algorithm.final_model.fused.blocks[0]
    n_params = sum(p.numel() for p in first.parameters())
    now = get_flat(first)
    assert torch.equal(seen[0][:n_params], now[:n_params])
    assert not torch.equal(seen[0][n_params:], now[n_params:])


def test_stage_epochs_spread_the_budget_over_the_stages() -> None:
    assert [stage_epochs(200, k) for k in (1, 2, 3, 4)] == [200, 100, 67, 50]


def test_default_blocks_are_two_or_what_the_model_has() -> None:
    assert (resolve_blocks(None, 3), resolve_blocks(None, 1), resolve_blocks(3, 3)) == (2, 1, 3)


def test_auto_adaptor_follows_the_feature_shapes() -> None:
    assert resolve_adaptor("auto", [(16, 4, 4), (32, 2, 2)]) == "conv1x1"
    assert resolve_adaptor("auto", [(50,)]) == "linear"
    assert resolve_adaptor("auto", []) == "conv1x1"
    assert resolve_adaptor("avg", [(50,)]) == "avg"


def test_a_model_that_cannot_be_cut_is_refused() -> None:
    text = SMALL_FUSEFL.replace("kind: cnn, hidden: [8, 16]", "kind: logreg")
    with pytest.raises(SimflError, match="'logreg' cannot be cut into blocks"):
        _run(text)


def test_explicit_width_replaces_the_sqrt_scaling() -> None:
    result = _run(hidden=[4, 4], blocks=1, calibrate=False)
    blocks = split_blocks("cnn", SHAPE, CLASSES, num_blocks=1, hidden=(4, 4), seed=0)
    sent = _events(result, "transfer", "block")
    assert set(sent["bytes"]) == {sum(s.size_bytes for s in block_stats(blocks, SHAPE))}
    assert result.summary["rounds_completed"] == 1


@pytest.mark.slow
def test_the_cifar10_scenario_runs_on_genuine_format_files(tmp_path: Path) -> None:
    from simfl.scenario.load import load_scenario
    from tests.test_cifar import write_cifar_batches

    write_cifar_batches(tmp_path, per_batch=20)
    scenario = load_scenario(REPO / "scenarios" / "fusefl_cifar10.yaml", [
        f"data.path={tmp_path}", "model.hidden=[4]", "algorithm.hidden=[2]",
        "algorithm.local_epochs=2", "algorithm.virtual_per_class=5"])
    assert (scenario.model.kind, scenario.algorithm.blocks) == ("resnet18", 2)
    result = simulate(scenario)
    assert result.algorithm.world.input_shape == (3, 32, 32)
    sent = _events(result, "transfer", "block")
    assert sorted(set(sent["block"])) == [1, 2] and len(sent) == 2 * 5
    assert len(result.algorithm.world.public_x) == 10  # 10% of 100 training images
