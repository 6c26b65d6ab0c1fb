"""Datasets that need no download: sklearn's digits and FedProx's Synthetic(alpha, beta).

``load_digits`` reads the 8x8 handwritten digits that ship inside scikit-learn.
``synthetic_fedprox`` generates the naturally federated Synthetic(alpha, beta) data of
Li et al., "Federated Optimization in Heterogeneous Networks" (FedProx, MLSys 2020),
following the authors' generator (``data/synthetic_*/generate_synthetic.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from simfl.errors import SimflError
from simfl.learning.dataset import Dataset


def load_digits(image: bool = False) -> Dataset:
    """Return sklearn's 1797 handwritten digits, pixels scaled to [0, 1].

    Parameters
    ----------
    image
        If true, ``x`` has shape ``(1797, 1, 8, 8)`` (for CNNs), else ``(1797, 64)``.

    Returns
    -------
    Dataset
        ``name="digits"``, 10 classes, float32 ``x`` (raw values 0..16 divided by 16),
        int64 ``y``.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)).astype(np.float32)
    if image:
        x = x.reshape(-1, 1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    return Dataset("digits", np.ascontiguousarray(x), y, "classification", 10)


def synthetic_fedprox(
    alpha: float,
    beta: float,
    num_clients: int,
    rng: np.random.Generator,
    num_features: int = 60,
    num_classes: int = 10,
    samples_lognormal_mean: float = 4.0,
    samples_lognormal_sigma: float = 2.0,
    min_samples: int = 50,
) -> list[Dataset]:
    """Return one FedProx Synthetic(alpha, beta) dataset per client (naturally federated).

    For client k (as in the FedProx generator; ``N(m, s)`` has standard deviation ``s``, as
    in the authors' ``np.random.normal`` calls):

    - ``u_k ~ N(0, alpha)``, ``W_k ~ N(u_k, 1)`` of shape (num_features, num_classes),
      ``b_k ~ N(u_k, 1)`` of shape (num_classes,): alpha controls how much the local
      models differ;
    - ``B_k ~ N(0, beta)``, ``v_k ~ N(B_k, 1)`` of shape (num_features,), and
      ``x ~ N(v_k, Sigma)`` with ``Sigma = diag(j^-1.2)``, j = 1..num_features: beta
      controls how much the local feature distributions differ;
    - ``y = argmax(softmax(x W_k + b_k))``;
    - the number of samples is ``int(lognormal(mean, sigma)) + min_samples``.

    Parameters
    ----------
    alpha, beta
        Heterogeneity of models and of features (>= 0). FedProx uses (0,0), (0.5,0.5), (1,1).
    num_clients
        Number of clients (FedProx uses 30).
    rng
        Source of randomness; the same seed gives the same datasets.
    num_features, num_classes
        60 and 10 in FedProx.
    samples_lognormal_mean, samples_lognormal_sigma, min_samples
        Per-client sample counts: ``int(rng.lognormal(mean, sigma)) + min_samples``.

    Returns
    -------
    list[Dataset]
        ``num_clients`` datasets named ``"synthetic(alpha,beta)/client<k>"``, float32 ``x`` of
        shape ``(n_k, num_features)``, int64 labels in ``[0, num_classes)``.
    """
    _, shards = synthetic_fedprox_shards(
        alpha, beta, num_clients, rng, num_features=num_features, num_classes=num_classes,
        samples_lognormal_mean=samples_lognormal_mean,
        samples_lognormal_sigma=samples_lognormal_sigma, min_samples=min_samples)
    tag = f"synthetic({alpha:g},{beta:g})"
    with one_blas_thread():
        return [Dataset(f"{tag}/client{k}", x, y, "classification", num_classes)
                for k, (x, y) in enumerate(shards)]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run numpy's BLAS on one thread inside the block (restored after it, also on error).

    Drawing many clients' FedProx data calls a small label product per client; a second
    BLAS thread spinning between those calls costs a whole core (10,000 devices: 18.7 ->
    7.3 s of CPU, same numbers). Wrap the consumption of
    :func:`synthetic_fedprox_shards` in it.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def synthetic_fedprox_shards(
    alpha: float,
    beta: float,
    num_clients: int,
    rng: np.random.Generator,
    num_features: int = 60,
    num_classes: int = 10,
    samples_lognormal_mean: float = 4.0,
    samples_lognormal_sigma: float = 2.0,
    min_samples: int = 50,
) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, np.ndarray]]]:
    """Return (sample counts, lazy per-client (x, y)) of :func:`synthetic_fedprox`.

    The counts (int64, shape ``(num_clients,)``) are drawn at once; each client's features
    (float32, ``(counts[k], num_features)``) and labels (int64, ``(counts[k],)``) are drawn
    when the iterator reaches it, so a caller can place them straight into preallocated
    arrays instead of holding every client's arrays twice (a world of 100,000 devices).
    Same arguments and ``rng`` state give the same numbers as :func:`synthetic_fedprox`;
    the iterator must be consumed before ``rng`` is used again, best inside
    :func:`one_blas_thread`.
    """
    problems = []
    if alpha < 0 or beta < 0:
        problems.append(
            f"synthetic_fedprox: alpha={alpha}, beta={beta}; both are standard deviations and "
            "must be >= 0 (FedProx uses 0, 0.5 or 1)"
        )
    if num_clients < 1:
        problems.append(f"synthetic_fedprox: num_clients={num_clients}; it must be >= 1")
    if num_features < 1 or num_classes < 2:
        problems.append(
            f"synthetic_fedprox: num_features={num_features}, num_classes={num_classes}; "
            "need at least 1 feature and 2 classes (FedProx uses 60 and 10)"
        )
    if min_samples < 1 or samples_lognormal_sigma < 0:
        problems.append(
            f"synthetic_fedprox: min_samples={min_samples}, "
            f"samples_lognormal_sigma={samples_lognormal_sigma}; need min_samples >= 1 and "
            "sigma >= 0"
        )
    if problems:
        raise SimflError(problems)

    # Draw order follows the FedProx generator: sample counts, model means, feature means.
    counts = (
        rng.lognormal(samples_lognormal_mean, samples_lognormal_sigma, num_clients).astype(np.int64)
        + min_samples
    )
    mean_w = rng.normal(0.0, alpha, num_clients)
    mean_b = mean_w
    big_b = rng.normal(0.0, beta, num_clients)
    mean_x = np.stack([rng.normal(big_b[k], 1.0, num_features) for k in range(num_clients)])
    std_x = np.power(np.arange(1, num_features + 1, dtype=np.float64), -1.2) ** 0.5

    def shards() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for k in range(num_clients):
            w = rng.normal(mean_w[k], 1.0, (num_features, num_classes))
            b = rng.normal(mean_b[k], 1.0, num_classes)
            # A diagonal covariance makes multivariate_normal equal to an independent scaling.
            x = rng.standard_normal((int(counts[k]), num_features))
            x *= std_x
            x += mean_x[k]
            # argmax(softmax(z)) == argmax(z): softmax is monotone.
            y = np.argmax(x @ w + b, axis=1).astype(np.int64)
            yield x.astype(np.float32), y

    return counts, shards()
