"""Assigning clients to groups (edge servers, teams, zones): pure functions over indices.

Every function returns ``groups[j] = sorted client indices of group j``; every client is in
exactly one group and no group is empty (or a :class:`~simfl.errors.SimflError` says why).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from simfl.errors import SimflError


def contiguous_groups(num_clients: int, count: int) -> list[list[int]]:
    """Return ``count`` blocks of consecutive clients, sizes differing by at most one."""
    _check_count(num_clients, count)
    bounds = [round(j * num_clients / count) for j in range(count + 1)]
    return [list(range(bounds[j], bounds[j + 1])) for j in range(count)]


def round_robin_groups(num_clients: int, count: int) -> list[list[int]]:
    """Return groups dealt like cards: client ``i`` joins group ``i mod count``."""
    _check_count(num_clients, count)
    return [list(range(j, num_clients, count)) for j in range(count)]


def random_groups(num_clients: int, count: int, rng: np.random.Generator) -> list[list[int]]:
    """Return contiguous-size groups of a random permutation of the clients."""
    order = rng.permutation(num_clients)
    return [sorted(int(order[i]) for i in block)
            for block in contiguous_groups(num_clients, count)]


def label_histograms(labels: Sequence[np.ndarray], num_classes: int | None = None,
                     bins: int = 10) -> np.ndarray:
    """Return each client's normalised label histogram, shape (clients, classes or bins).

    Integer labels count per class (``num_classes`` classes); float targets fall into
    ``bins`` common bins spanning all clients' targets.
    """
    if not labels:
        raise SimflError("label_histograms: no clients given")
    flat = [np.asarray(y).reshape(-1) for y in labels]
    if all(np.issubdtype(y.dtype, np.integer) for y in flat):
        k = num_classes if num_classes is not None else int(max(y.max(initial=0)
                                                                for y in flat)) + 1
        counts = np.stack([np.bincount(y, minlength=k)[:k] for y in flat]).astype(float)
    else:
        values = np.concatenate(flat)
        edges = np.linspace(float(values.min()), float(values.max()), bins + 1)
        counts = np.stack([np.histogram(y, bins=edges)[0] for y in flat]).astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def label_cluster_groups(histograms: np.ndarray, count: int, rng: np.random.Generator,
                         iterations: int = 100) -> list[list[int]]:
    """Return ``count`` groups of clients with similar label histograms (k-means, k-means++).

    Deterministic for a given ``rng`` state. A cluster that empties is re-seeded with the
    client farthest from its centre, so every group has a client.
    """
    n = histograms.shape[0]
    _check_count(n, count)
    x = np.asarray(histograms, dtype=float)
    centres = [x[int(rng.integers(n))]]
    for _ in range(1, count):
        d2 = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = float(d2.sum())
        pick = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(x[pick])
    c = np.stack(centres)
    assign = np.full(n, -1)
    for _ in range(iterations):
        dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        own = dist[np.arange(n), new]
        for j in range(count):
            if not np.any(new == j):
                sizes = np.bincount(new, minlength=count)
                movable = np.flatnonzero(sizes[new] > 1)
                far = int(movable[np.argmax(own[movable])])
                new[far] = j
                own[far] = -np.inf
        if np.array_equal(new, assign):
            break
        assign = new
        c = np.stack([x[assign == j].mean(axis=0) for j in range(count)])
    return [sorted(int(i) for i in np.flatnonzero(assign == j)) for j in range(count)]


def explicit_groups(members: Sequence[Sequence[int]], num_clients: int,
                    where: str = "groups.members") -> list[list[int]]:
    """Return ``members`` checked: every client 0..num_clients-1 in exactly one group.

    Raises
    ------
    SimflError
        Listing clients out of range, in two groups, or in none, and empty groups.
    """
    problems = []
    seen: dict[int, int] = {}
    for j, group in enumerate(members):
        if not group:
            problems.append(f"{where}[{j}] is empty; every group needs a client")
        for i in group:
            if not 0 <= int(i) < num_clients:
                problems.append(f"{where}[{j}]: client {i} does not exist (clients are "
                                f"0..{num_clients - 1})")
            elif int(i) in seen:
                problems.append(f"{where}[{j}]: client {i} is already in group {seen[int(i)]}; "
                                "a client belongs to one group")
            else:
                seen[int(i)] = j
    missing = sorted(set(range(num_clients)) - set(seen))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        problems.append(f"{where}: clients {shown} are in no group; list every client once")
    if problems:
        raise SimflError(problems)
    return [sorted(int(i) for i in group) for group in members]


def read_group_file(path: Path, num_clients: int) -> tuple[list[str], list[list[int]]]:
    """Return (group names in order of first appearance, members) from a ``client,group`` CSV.

    ``client`` is an index (``3``) or a node name (``client-3``); ``group`` any name.

    Raises
    ------
    SimflError
        Naming the file and line of every bad row, and clients left out.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text: {exc.reason}"
        raise SimflError(f"{path}: cannot read the group file ({reason or exc}); give "
                         "a CSV with a header 'client,group'") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip() for c in rows[0]] != ["client", "group"]:
        raise SimflError(f"{path}:1: the header must be 'client,group', got "
                         f"{','.join(rows[0]) if rows else '(empty file)'!r}")
    names: list[str] = []
    members: dict[str, list[int]] = {}
    problems = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != 2:
            problems.append(f"{path}:{line}: expected 2 columns (client,group), got {len(row)}")
            continue
        raw, group = row[0].strip(), row[1].strip()
        text_index = raw.removeprefix("client-")
        if not text_index.isdigit() or not group:
            problems.append(f"{path}:{line}: {raw!r},{group!r}: write a client index (3) or "
                            "name (client-3) and a group name")
            continue
        if group not in members:
            names.append(group)
            members[group] = []
        members[group].append(int(text_index))
    if problems:
        raise SimflError(problems)
    return names, explicit_groups([members[g] for g in names], num_clients, where=str(path))


def _check_count(num_clients: int, count: int) -> None:
    if count < 1 or count > num_clients:
        raise SimflError(f"{count} groups for {num_clients} clients: use 1..{num_clients} "
                         "groups, so that every group has a client")
