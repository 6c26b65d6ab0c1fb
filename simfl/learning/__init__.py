"""simfl.learning: datasets, partitioners, models, local training, parameters, FLOPs.

Pure building blocks without SimPy: the algorithms call these at simulated instants.
"""

from simfl.learning.batched_evaluation import evaluate_batched, evaluate_batched_each
from simfl.learning.batched_models import batched_support, stacked_form
from simfl.learning.batched_training import BatchJob, train_batched
from simfl.learning.builtin import load_digits, synthetic_fedprox
from simfl.learning.cifar import load_cifar10_bin, read_cifar_bin
from simfl.learning.dataset import Dataset, train_test_split
from simfl.learning.fitrec import FitRecData, fitrec_clients, load_fitrec
from simfl.learning.flops import inference_flops_per_sample, training_flops_per_sample
from simfl.learning.geo_workouts import (
    COUNTRIES,
    Country,
    GeoWorkouts,
    GeoWorkoutsConfig,
    generate_geo_workouts,
)
from simfl.learning.idx import load_mnist_idx, read_idx, write_idx
from simfl.learning.leaf import LeafClient, LeafData, load_leaf
from simfl.learning.models import MODEL_KINDS, SequenceModel, build_model
from simfl.learning.params import get_flat, num_parameters, payload_bytes, set_flat
from simfl.learning.partition import (
    partition_dirichlet,
    partition_groups,
    partition_iid,
    partition_labels_per_client,
)
from simfl.learning.sequences import (
    WORKOUT_FEATURES,
    FeatureScaling,
    SequenceClient,
    split_indices,
)
from simfl.learning.training import TrainConfig, TrainResult, evaluate, train_local

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
