"""simfl.learning: datasets, partitioners, models, local training, parameters, FLOPs.

Pure building blocks without SimPy: the algorithms call these at simulated instants.

Names are imported on first use (PEP 562), so importing one pure module of this package
(e.g. ``simfl.learning.grouping``) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BatchJob": "simfl.learning.batched_training",
    "COUNTRIES": "simfl.learning.geo_workouts",
    "Country": "simfl.learning.geo_workouts",
    "Dataset": "simfl.learning.dataset",
    "FeatureScaling": "simfl.learning.sequences",
    "FitRecData": "simfl.learning.fitrec",
    "GeoWorkouts": "simfl.learning.geo_workouts",
    "GeoWorkoutsConfig": "simfl.learning.geo_workouts",
    "LeafClient": "simfl.learning.leaf",
    "LeafData": "simfl.learning.leaf",
    "MODEL_KINDS": "simfl.learning.models",
    "SequenceClient": "simfl.learning.sequences",
    "SequenceModel": "simfl.learning.models",
    "TrainConfig": "simfl.learning.training",
    "TrainResult": "simfl.learning.training",
    "WORKOUT_FEATURES": "simfl.learning.sequences",
    "batched_support": "simfl.learning.batched_models",
    "build_model": "simfl.learning.models",
    "evaluate": "simfl.learning.training",
    "evaluate_batched": "simfl.learning.batched_evaluation",
    "evaluate_batched_each": "simfl.learning.batched_evaluation",
    "fitrec_clients": "simfl.learning.fitrec",
    "generate_geo_workouts": "simfl.learning.geo_workouts",
    "get_flat": "simfl.learning.params",
    "inference_flops_per_sample": "simfl.learning.flops",
    "load_cifar10_bin": "simfl.learning.cifar",
    "load_digits": "simfl.learning.builtin",
    "load_fitrec": "simfl.learning.fitrec",
    "load_leaf": "simfl.learning.leaf",
    "load_mnist_idx": "simfl.learning.idx",
    "num_parameters": "simfl.learning.params",
    "partition_dirichlet": "simfl.learning.partition",
    "partition_groups": "simfl.learning.partition",
    "partition_iid": "simfl.learning.partition",
    "partition_labels_per_client": "simfl.learning.partition",
    "payload_bytes": "simfl.learning.params",
    "read_cifar_bin": "simfl.learning.cifar",
    "read_idx": "simfl.learning.idx",
    "set_flat": "simfl.learning.params",
    "split_indices": "simfl.learning.sequences",
    "stacked_form": "simfl.learning.batched_models",
    "synthetic_fedprox": "simfl.learning.builtin",
    "train_batched": "simfl.learning.batched_training",
    "train_local": "simfl.learning.training",
    "train_test_split": "simfl.learning.dataset",
    "training_flops_per_sample": "simfl.learning.flops",
    "write_idx": "simfl.learning.idx",
}

__all__ = [
    "COUNTRIES",
    "MODEL_KINDS",
    "WORKOUT_FEATURES",
    "BatchJob",
    "Country",
    "Dataset",
    "FeatureScaling",
    "FitRecData",
    "GeoWorkouts",
    "GeoWorkoutsConfig",
    "LeafClient",
    "LeafData",
    "SequenceClient",
    "SequenceModel",
    "TrainConfig",
    "TrainResult",
    "batched_support",
    "build_model",
    "evaluate",
    "evaluate_batched",
    "evaluate_batched_each",
    "fitrec_clients",
    "generate_geo_workouts",
    "get_flat",
    "inference_flops_per_sample",
    "load_cifar10_bin",
    "load_digits",
    "load_fitrec",
    "load_leaf",
    "load_mnist_idx",
    "num_parameters",
    "partition_dirichlet",
    "partition_groups",
    "partition_iid",
    "partition_labels_per_client",
    "payload_bytes",
    "read_cifar_bin",
    "read_idx",
    "set_flat",
    "split_indices",
    "stacked_form",
    "synthetic_fedprox",
    "train_batched",
    "train_local",
    "train_test_split",
    "training_flops_per_sample",
    "write_idx",
]


def __getattr__(name: str) -> Any:
    """Import a name of this package on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simfl.learning' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
