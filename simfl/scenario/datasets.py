"""Building the federated data of a scenario: dataset -> train/test -> client shards."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from simfl.errors import ScenarioError
from simfl.learning.builtin import load_digits, one_blas_thread, synthetic_fedprox_shards
from simfl.learning.cifar import load_cifar10_bin
from simfl.learning.client_data import ClientData
from simfl.learning.client_tests import (
    holdout_indices,
    label_pools,
    proportional_test_indices,
    proportional_test_size,
)
from simfl.learning.dataset import (
    Dataset,
    shuffle_split_indices,
    split_test_size,
    train_test_split,
)
from simfl.learning.idx import load_mnist_idx
from simfl.learning.leaf import load_leaf
from simfl.learning.models import RECURRENT_KINDS
from simfl.learning.partition import (
    partition_dirichlet,
    partition_groups,
    partition_iid,
    partition_labels_per_client,
)
from simfl.scenario.rules import region_sizes
from simfl.scenario.schema import DataConfig, ModelConfig, PartitionConfig

if TYPE_CHECKING:
    from simfl.geo.layout import ZoneLayout


@dataclass(frozen=True)
class FederatedData:
    """Client shards plus the held-out test set and what the model needs to know.

    ``layout`` (geographic datasets) says which zone each client lives in;
    ``target_scale`` is the training targets' (mean, std) and ``context_features`` the
    number of context channels per step (read by per-step models).
    """

    clients: list[ClientData]
    test_x: torch.Tensor
    test_y: torch.Tensor
    task: str
    num_classes: int
    input_shape: tuple[int, ...]
    public_x: torch.Tensor | None = None
    """Unlabeled public inputs held out of the training data (``data.public_fraction``)."""
    layout: ZoneLayout | None = None
    target_scale: tuple[float, float] = (0.0, 1.0)
    context_features: int = 0


IMAGE_MODELS = ("cnn", "resnet8", "resnet18")
"""Model kinds that read images ``(C, H, W)``: digits are loaded as 1x8x8 images for them."""


def _as_sequence(ds: Dataset) -> Dataset:
    """Reshape images (n, C, H, W) or vectors (n, F) to sequences for recurrent models."""
    x = ds.x
    if x.ndim == 4:
        n, c, h, w = x.shape
        x = x.transpose(0, 2, 1, 3).reshape(n, h, c * w)
    elif x.ndim == 2:
        side = round(np.sqrt(x.shape[1]))
        x = x.reshape(len(x), side, side) if side * side == x.shape[1] else x[:, :, None]
    return Dataset(ds.name, np.ascontiguousarray(x), ds.y, ds.task, ds.num_classes)


def _to_tensors(ds: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(np.ascontiguousarray(ds.x)), torch.from_numpy(ds.y)


def _load_split(data: DataConfig, model: ModelConfig, seed: int) -> tuple[Dataset, Dataset]:
    split_seed = seed if data.split_seed is None else data.split_seed
    if data.dataset == "digits":
        full = load_digits(image=model.kind in IMAGE_MODELS)
        return train_test_split(full, data.test_fraction, seed=split_seed, stratify=True)
    assert data.path is not None
    if data.dataset in ("mnist", "fashion-mnist"):
        if data.dataset == "mnist":
            return load_mnist_idx(data.path, variant="mnist")
        return load_mnist_idx(data.path, variant="fashion-mnist")
    return load_cifar10_bin(data.path)


def _partition_by_region(labels: np.ndarray, cfg: PartitionConfig, sizes: list[int],
                         rng: np.random.Generator) -> list[np.ndarray]:
    """Dirichlet(alpha) over labels between regions, then IID between a region's clients."""
    num_regions = len(sizes)
    per_region = partition_dirichlet(labels, num_regions, cfg.alpha, rng,
                                     min_samples_per_client=max(sizes) * cfg.min_samples_per_client)
    parts: list[np.ndarray] = []
    for idx, size in zip(per_region, sizes, strict=True):
        for local in partition_iid(labels[idx], size, rng):
            parts.append(idx[local])
    return parts


def _partition(labels: np.ndarray, cfg: PartitionConfig, rng: np.random.Generator,
               sizes: list[int] | None = None) -> list[np.ndarray]:
    if cfg.scheme == "region_dirichlet":
        assert sizes is not None
        return _partition_by_region(labels, cfg, sizes, rng)
    if cfg.scheme == "iid":
        return partition_iid(labels, cfg.num_clients, rng)
    if cfg.scheme == "dirichlet":
        return partition_dirichlet(labels, cfg.num_clients, cfg.alpha, rng,
                                   min_samples_per_client=cfg.min_samples_per_client)
    if cfg.scheme == "labels_per_client":
        return partition_labels_per_client(labels, cfg.num_clients, cfg.labels_per_client, rng,
                                           consecutive=cfg.label_assignment == "consecutive")
    assert cfg.groups is not None
    # every client exists: the remainder of num_clients / groups goes to the first groups
    return partition_groups(labels, cfg.groups, region_sizes(cfg.num_clients, len(cfg.groups)),
                            rng)


def _leaf_data(data: DataConfig, partition: PartitionConfig, model: ModelConfig,
               test_rng: np.random.Generator) -> FederatedData:
    """Return one client per LEAF user (the first ``partition.num_clients`` if it was set)."""
    assert data.path is not None
    shape = tuple(data.image_shape) if data.image_shape is not None else None
    leaf = load_leaf(data.path, image_shape=shape)
    users = list(leaf.clients)
    if "num_clients" in partition.model_fields_set:
        if partition.num_clients > len(users):
            raise ScenarioError(f"partition.num_clients: {partition.num_clients} clients asked "
                                f"for, but {data.path} has {len(users)} users; use at most "
                                f"{len(users)} (or leave num_clients out to take them all)")
        users = users[: partition.num_clients]
    sequence = model.kind in RECURRENT_KINDS
    clients, own = [], []
    for i, user in enumerate(users):
        train, test = user.train, user.test
        if sequence:
            train, test = _as_sequence(train), _as_sequence(test)
        x, y = _to_tensors(train)
        clients.append(ClientData(f"client-{i}", x, y, train.y))
        own.append(_to_tensors(test))
    test_x = torch.cat([x for x, _ in own])
    test_y = torch.cat([y for _, y in own])
    clients = with_client_tests(clients, test_x, test_y, data, test_rng, own)
    return FederatedData(clients, test_x, test_y, leaf.task, leaf.num_classes,
                         tuple(clients[0].x.shape[1:]))


def _synthetic_data(data: DataConfig, num_clients: int, sequence: bool,
                    rng: np.random.Generator, seed: int, test_rng: np.random.Generator,
                    public_fraction: float, public_seed: int) -> FederatedData:
    """Return FedProx Synthetic clients: each shard split ``test_fraction`` for test (seed
    ``seed + k``), then ``public_fraction`` of its training part for public data (seed
    ``public_seed + k``), as ``train_test_split`` without stratification splits.

    Every client's rows are written straight into one train, one test and one public array
    (clients hold views), so the data is in memory once: the global test set and the
    public data are the clients' parts in client order.
    """
    syn = data.synthetic
    counts, shards = synthetic_fedprox_shards(syn.alpha, syn.beta, num_clients, rng,
                                              num_features=syn.num_features,
                                              num_classes=syn.num_classes)
    n_test = [split_test_size(int(n), data.test_fraction) for n in counts]
    n_public = [split_test_size(int(n) - t, public_fraction) if public_fraction > 0 else 0
                for n, t in zip(counts, n_test, strict=True)]
    train = _Rows([int(n) - t - q for n, t, q in zip(counts, n_test, n_public, strict=True)],
                  syn.num_features)
    test, public = _Rows(n_test, syn.num_features), _Rows(n_public, syn.num_features)
    splitter = np.random.RandomState(seed)
    with one_blas_thread():
        for k, (x, y) in enumerate(shards):
            train_idx, test_idx = shuffle_split_indices(len(y), n_test[k], seed + k, splitter)
            if n_public[k]:
                kept, held = shuffle_split_indices(len(train_idx), n_public[k],
                                                   public_seed + k, splitter)
                public.put(k, x, y, train_idx[held])
                train_idx = train_idx[kept]
            train.put(k, x, y, train_idx)
            test.put(k, x, y, test_idx)
    train_x, train_y = train.tensors(sequence, syn.num_classes)
    test_x, test_y = test.tensors(sequence, syn.num_classes)
    clients = [ClientData(f"client-{k}", train_x[rows], train_y[rows], train_y[rows].numpy())
               for k, rows in enumerate(train.slices())]
    own = [(test_x[rows], test_y[rows]) for rows in test.slices()]
    clients = with_client_tests(clients, test_x, test_y, data, test_rng, own)
    public_x = public.tensors(sequence, syn.num_classes)[0] if public_fraction > 0 else None
    return FederatedData(clients, test_x, test_y, "classification", syn.num_classes,
                         tuple(clients[0].x.shape[1:]), public_x)


class _Rows:
    """One array of every client's rows of one part (train, test or public), in order."""

    def __init__(self, sizes: list[int], num_features: int) -> None:
        self.ends = np.cumsum(sizes, dtype=np.int64)
        self.sizes = sizes
        total = int(self.ends[-1]) if len(sizes) else 0
        # torch's allocator: its fresh pages fault in 4-7x faster than numpy's here (numpy
        # asks for transparent huge pages, which the kernel compacts memory for)
        self.x = torch.empty((total, num_features)).numpy()
        self.y = torch.empty(total, dtype=torch.int64).numpy()

    def slices(self) -> list[slice]:
        """Return each client's rows."""
        return [slice(int(e) - n, int(e)) for e, n in zip(self.ends, self.sizes, strict=True)]

    def put(self, k: int, x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> None:
        """Write rows ``idx`` of client ``k``'s ``x`` and ``y`` as its rows."""
        rows = slice(int(self.ends[k]) - self.sizes[k], int(self.ends[k]))
        np.take(x, idx, axis=0, out=self.x[rows])
        np.take(y, idx, out=self.y[rows])

    def tensors(self, sequence: bool, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (x, y) as tensors, x shaped for recurrent models if ``sequence`` (views)."""
        part = Dataset("synthetic", self.x, self.y, "classification", num_classes)
        return _to_tensors(_as_sequence(part) if sequence else part)


def with_client_tests(
    clients: list[ClientData],
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    data: DataConfig,
    rng: np.random.Generator,
    natural: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> list[ClientData]:
    """Return ``clients`` with their own test data, as ``data.client_test`` says.

    ``natural`` holds each client's own test split where the dataset has one.
    """
    mode = data.client_test
    if mode == "auto":
        mode = "natural" if natural is not None else "proportional"
    out = []
    if mode == "natural":
        assert natural is not None
        return [replace(c, test_x=tx, test_y=ty)
                for c, (tx, ty) in zip(clients, natural, strict=True)]
    if mode == "holdout":
        for c in clients:
            train_idx, test_idx = holdout_indices(c.labels, data.client_test_fraction, rng)
            tr, te = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
            out.append(ClientData(c.name, c.x[tr], c.y[tr], c.labels[train_idx], c.x[te],
                                  c.y[te]))
        return out
    test_labels = test_y.numpy()
    total_train = sum(c.num_samples for c in clients)
    pools = label_pools(test_labels) if np.issubdtype(test_labels.dtype, np.integer) else None
    for c in clients:
        size = proportional_test_size(c.num_samples, total_train, len(test_labels),
                                      data.min_client_test_samples)
        idx = torch.from_numpy(proportional_test_indices(c.labels, test_labels, size, rng,
                                                         pools))
        out.append(replace(c, test_x=test_x[idx], test_y=test_y[idx]))
    return out


def build_federated_data(
    data: DataConfig,
    partition: PartitionConfig,
    model: ModelConfig,
    rng: np.random.Generator,
    seed: int,
    region_clients: list[int] | None = None,
    test_rng: np.random.Generator | None = None,
    public_fraction: float = 0.0,
    public_seed: int = 0,
) -> FederatedData:
    """Return the clients' shards and the test set described by the scenario sections.

    ``rng`` is the scenario's ``"partition"`` stream; ``seed`` the root seed (used for the
    train/test split unless ``data.split_seed`` is set); ``test_rng`` draws the clients' own
    test data (default: a generator seeded with ``seed``). ``public_fraction`` of the
    training set (of each client's training shard for ``synthetic``) is held out before
    partitioning, split with ``public_seed``, and returned unlabeled as ``public_x``.
    """
    test_rng = test_rng if test_rng is not None else np.random.default_rng(seed)
    if data.dataset in ("geo_workouts", "fitrec"):
        from simfl.scenario.geo_datasets import geo_federated_data

        return geo_federated_data(data, rng, test_rng)
    if data.dataset == "leaf":
        return _leaf_data(data, partition, model, test_rng)
    sequence = model.kind in RECURRENT_KINDS
    if data.dataset == "synthetic":
        return _synthetic_data(data, partition.num_clients, sequence, rng, seed, test_rng,
                               public_fraction, public_seed)
    train, test = _load_split(data, model, seed)
    public_x = None
    if public_fraction > 0:
        train, pub = train_test_split(train, public_fraction, seed=public_seed, stratify=True)
        public_x = _to_tensors(_as_sequence(pub) if sequence else pub)[0]
    if sequence:
        train, test = _as_sequence(train), _as_sequence(test)
    parts = _partition(train.y, partition, rng, region_clients)
    clients = []
    for i, idx in enumerate(parts):
        shard = train.subset(idx)
        x, y = _to_tensors(shard)
        clients.append(ClientData(f"client-{i}", x, y, shard.y))
    test_x, test_y = _to_tensors(test)
    clients = with_client_tests(clients, test_x, test_y, data, test_rng)
    return FederatedData(clients, test_x, test_y, train.task, train.num_classes,
                         tuple(train.feature_shape), public_x)
