"""Split a dataset's samples among clients: IID, Dirichlet label skew, k labels, groups.

Every function takes the label vector (shape ``(n,)``) and a numpy ``Generator`` and returns
one sorted int64 index array per client. A sample goes to at most one client; the same
``rng`` state always gives the same split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simfl.errors import SimflError

#: How many Dirichlet draws :func:`partition_dirichlet` tries before giving up.
MAX_DIRICHLET_DRAWS = 1000


def partition_iid(
    labels: np.ndarray, num_clients: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Return ``num_clients`` index arrays of a uniform random split; sizes differ by <= 1.

    ``labels`` are used only for their count, so regression targets work too.
    """
    labels = _labels(labels, integer=False)
    _check_clients(num_clients, labels.size)
    parts = np.array_split(rng.permutation(labels.size), num_clients)
    return [np.sort(p).astype(np.int64) for p in parts]


def partition_dirichlet(
    labels: np.ndarray,
    num_clients: int,
    alpha: float,
    rng: np.random.Generator,
    min_samples_per_client: int = 1,
) -> list[np.ndarray]:
    """Return ``num_clients`` index arrays with label proportions skewed by ``Dir(alpha)``.

    For each class, the shares of the clients are drawn from a symmetric Dirichlet
    distribution with concentration ``alpha`` and the class's shuffled samples are cut at
    those shares (Hsu et al. 2019, "Measuring the effects of non-identical data
    distribution"). Small ``alpha`` (0.1) gives each client few classes; large ``alpha``
    (100) approaches IID. The whole draw is repeated until every client holds at least
    ``min_samples_per_client`` samples. Every sample is assigned.
    """
    labels = _labels(labels)
    _check_clients(num_clients, labels.size)
    if not alpha > 0:
        raise SimflError(
            f"partition_dirichlet: alpha={alpha} must be > 0; use e.g. 0.1 (strong label "
            "skew), 1.0 (moderate) or 100 (nearly IID)"
        )
    if min_samples_per_client < 0 or min_samples_per_client * num_clients > labels.size:
        raise SimflError(
            f"partition_dirichlet: min_samples_per_client={min_samples_per_client} for "
            f"{num_clients} clients needs {min_samples_per_client * num_clients} samples but "
            f"there are {labels.size}; lower it or use fewer clients"
        )
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    for _ in range(MAX_DIRICHLET_DRAWS):
        chunks: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
        for idx in by_class:
            shuffled = rng.permutation(idx)
            shares = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * idx.size).astype(np.int64)
            for client, piece in enumerate(np.split(shuffled, cuts)):
                chunks[client].append(piece)
        parts = [np.sort(np.concatenate(c)).astype(np.int64) for c in chunks]
        if min(p.size for p in parts) >= min_samples_per_client:
            return parts
    raise SimflError(
        f"partition_dirichlet: after {MAX_DIRICHLET_DRAWS} draws with alpha={alpha}, some of "
        f"the {num_clients} clients still had fewer than {min_samples_per_client} samples "
        f"({labels.size} samples in total); raise alpha, lower min_samples_per_client or use "
        "fewer clients"
    )


def partition_labels_per_client(
    labels: np.ndarray, num_clients: int, labels_per_client: int, rng: np.random.Generator,
    consecutive: bool = False,
) -> list[np.ndarray]:
    """Return ``num_clients`` index arrays, each holding exactly ``labels_per_client`` labels.

    By default the classes are put in a random order and dealt round-robin: client ``i``
    holds the ``labels_per_client`` consecutive classes starting at position
    ``i * labels_per_client`` (mod the number of classes), so every class is held by the same
    number of clients, give or take one. With ``consecutive`` client ``i`` holds the classes
    at positions ``i, i + 1, ..., i + labels_per_client - 1`` (mod the number of classes) in
    sorted order: with digit labels, client ``u`` gets ``u mod 10`` and ``(u + 1) mod 10``,
    the MNIST split of the pFedMe and PerMFL code. Each class's shuffled samples are split
    into equal shards among its holders. Classes held by no client (when fewer clients than
    classes) are left unassigned.
    """
    labels = _labels(labels)
    _check_clients(num_clients, labels.size)
    classes = np.unique(labels)
    k = labels_per_client
    if not 1 <= k <= classes.size:
        raise SimflError(
            f"partition_labels_per_client: labels_per_client={k} but the data has "
            f"{classes.size} distinct labels; use a value from 1 to {classes.size}"
        )
    order = classes if consecutive else rng.permutation(classes)
    stride = 1 if consecutive else k
    holders: dict[int, list[int]] = {int(c): [] for c in classes}
    for client in range(num_clients):
        for j in range(k):
            holders[int(order[(client * stride + j) % classes.size])].append(client)
    chunks: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
    for c in classes:
        owners = holders[int(c)]
        if not owners:
            continue
        idx = rng.permutation(np.flatnonzero(labels == c))
        if idx.size < len(owners):
            raise SimflError(
                f"partition_labels_per_client: label {int(c)} has {idx.size} samples but "
                f"{len(owners)} clients must share it; use fewer clients or fewer labels per "
                "client"
            )
        for owner, shard in zip(owners, np.array_split(idx, len(owners)), strict=True):
            chunks[owner].append(shard)
    return [np.sort(np.concatenate(c)).astype(np.int64) for c in chunks]


def partition_groups(
    labels: np.ndarray,
    groups: Sequence[Sequence[int]],
    clients_per_group: Sequence[int] | int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Return one index array per client; group ``g``'s clients share the labels ``groups[g]``.

    Clients are numbered group by group: the first ``clients_per_group[0]`` arrays belong to
    group 0, and so on. The samples of each label are split equally among the groups that
    list it, then each group's pool is split IID among its clients (sizes differ by <= 1).
    Labels listed in no group are left unassigned.
    """
    labels = _labels(labels)
    if len(groups) == 0:
        raise SimflError("partition_groups: groups is empty; give at least one list of labels")
    counts = (
        [clients_per_group] * len(groups)
        if isinstance(clients_per_group, int | np.integer)
        else list(clients_per_group)
    )
    problems = []
    if len(counts) != len(groups):
        problems.append(
            f"partition_groups: {len(groups)} groups but clients_per_group has {len(counts)} "
            "entries; give one count per group or a single int"
        )
    present = set(np.unique(labels).tolist())
    for g, group in enumerate(groups):
        if len(group) == 0:
            problems.append(f"partition_groups: group {g} lists no labels; give at least one")
        if len(set(group)) != len(group):
            problems.append(f"partition_groups: group {g} lists a label twice: {list(group)}")
        absent = sorted(set(group) - present)
        if absent:
            problems.append(
                f"partition_groups: group {g} lists labels {absent} that the data does not "
                f"have; valid labels: {sorted(present)}"
            )
    for g, count in enumerate(counts):
        if int(count) < 1:
            problems.append(f"partition_groups: group {g} has {count} clients; need >= 1")
    if problems:
        raise SimflError(problems)

    pools: list[list[np.ndarray]] = [[] for _ in groups]
    for c in sorted(present):
        members = [g for g, group in enumerate(groups) if c in group]
        if not members:
            continue
        idx = rng.permutation(np.flatnonzero(labels == c))
        for g, piece in zip(members, np.array_split(idx, len(members)), strict=True):
            pools[g].append(piece)
    parts: list[np.ndarray] = []
    for g, pool in enumerate(pools):
        merged = np.concatenate(pool)
        if merged.size < counts[g]:
            raise SimflError(
                f"partition_groups: group {g} gets {merged.size} samples but has {counts[g]} "
                "clients; use fewer clients or give the group more labels"
            )
        parts.extend(
            np.sort(p).astype(np.int64) for p in np.array_split(rng.permutation(merged), counts[g])
        )
    return parts


def _labels(labels: np.ndarray, integer: bool = True) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise SimflError(f"partition: labels have shape {arr.shape}; pass a 1-D label vector")
    if integer and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise SimflError(
            f"partition: labels have dtype {arr.dtype}; label-based partitions need integer "
            "class labels (for regression data use partition_iid on np.zeros(n, int))"
        )
    return arr


def _check_clients(num_clients: int, num_samples: int) -> None:
    if num_clients < 1:
        raise SimflError(f"partition: num_clients={num_clients}; it must be >= 1")
    if num_clients > num_samples:
        raise SimflError(
            f"partition: {num_clients} clients but only {num_samples} samples; every client "
            "needs at least one sample, so use fewer clients or more data"
        )
