"""Naturally federated datasets in the LEAF JSON layout (LEAF, FedProx, pFedMe, PerMFL).

A dataset folder holds ``train/*.json`` and ``test/*.json`` (each may be ``.json.gz``),
every file ``{"users": [...], "num_samples": [...], "user_data": {user: {"x": [...],
"y": [...]}}}`` with an optional ``"hierarchies"`` list parallel to ``users`` (Caldas et al.,
"LEAF: A Benchmark for Federated Settings", 2018; the same files feed FedProx, pFedMe and
PerMFL). Each user is one client with its own train and test samples (LEAF's sample split:
every user in both). Features are numbers (vectors, or flattened images that ``image_shape``
restores); labels are integers (classification) or floats (regression). Text datasets
(Shakespeare, Sent140) need a tokenizer and are not read here.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simfl.errors import DataError, capped
from simfl.learning.dataset import Dataset

SPLITS = ("train", "test")
LEAF_KEYS = ("users", "num_samples", "user_data")
LEAF_TASKS = ("auto", "classification", "regression")
SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True, eq=False)
class LeafClient:
    """One LEAF user: its name and its own train and test samples."""

    name: str
    train: Dataset
    test: Dataset


@dataclass(frozen=True, eq=False)
class LeafData:
    """A LEAF dataset: one client per user, in file order, and the union of their test data.

    Attributes
    ----------
    name
        The dataset's folder name (the parent's when the folder is called ``data``).
    clients
        One :class:`LeafClient` per user: train files sorted by name, users in each file's
        order.
    test
        Every client's test samples, concatenated in client order (the global test set).
    task, num_classes
        ``"classification"`` with ``num_classes`` = the largest label + 1 (labels are kept
        as written, so a subset of FEMNIST still has 62 outputs if label 61 occurs; pass
        ``num_classes`` to :func:`load_leaf` to fix it), or ``"regression"`` with 0.
    hierarchies
        ``{user: entry}`` from the files' ``"hierarchies"`` lists (empty when absent).
    """

    name: str
    clients: tuple[LeafClient, ...]
    test: Dataset
    task: Literal["classification", "regression"]
    num_classes: int
    hierarchies: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one sample's features."""
        return self.test.feature_shape


@dataclass
class _Split:
    """What one split's files hold, per user, before checks across users."""

    x: dict[str, np.ndarray] = field(default_factory=dict)
    y: dict[str, list[Any]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # user -> "file: user 'u'"
    hierarchies: dict[str, Any] = field(default_factory=dict)


def load_leaf(
    directory: str | os.PathLike[str],
    *,
    image_shape: tuple[int, ...] | None = None,
    task: Literal["auto", "classification", "regression"] = "auto",
    num_classes: int | None = None,
) -> LeafData:
    """Return the clients of a LEAF-layout dataset folder.

    Parameters
    ----------
    directory
        Folder holding ``train/`` and ``test/`` (or ``data/train`` and ``data/test``).
    image_shape
        Reshape every sample's features to this shape, e.g. ``(1, 28, 28)`` for FEMNIST's
        784 pixels; its product must equal the number of features.
    task
        ``"auto"``: integer labels make a classification dataset, float labels a regression
        one (a mix is an error). ``"classification"`` also accepts integral floats (``3.0``);
        ``"regression"`` also accepts integers.
    num_classes
        Number of classes of a classification dataset; default: the largest label + 1.

    Raises
    ------
    DataError
        Listing every problem, one line each (file, user, what is wrong, what is allowed;
        at most 50 lines): missing folders or files, invalid JSON, missing keys,
        ``num_samples`` that disagree with the data, ragged or non-numeric ``x``, mixed or
        non-numeric labels, a user in only one split or twice in one split, features of
        different sizes.
    """
    if task not in LEAF_TASKS:
        raise DataError(f"load_leaf: task {task!r} is unknown; use one of {LEAF_TASKS}")
    root = _resolve_root(Path(directory))
    problems: list[str] = []
    splits = {split: _read_split(root / split, problems) for split in SPLITS}
    train, test = splits["train"], splits["test"]
    for user in test.x:
        if user not in train.x:
            problems.append(
                f"{test.where[user]}: has test data but no train data; every user needs both "
                "(use LEAF's sample split, -t sample, not the user split)"
            )
    for user in train.x:
        if user not in test.x:
            problems.append(
                f"{train.where[user]}: has train data but no test data; every user needs both "
                "(use LEAF's sample split, -t sample, not the user split)"
            )
    shape = _feature_shape(splits, image_shape, problems)
    kind = _label_task(splits, task, problems)
    if problems:
        raise DataError(capped(problems))
    labels = {s: {u: _labels(y, kind) for u, y in splits[s].y.items()} for s in SPLITS}
    n_classes = _num_classes(labels, kind, num_classes, splits, problems)
    if problems:
        raise DataError(capped(problems))
    name = root.parent.name if root.name == "data" else root.name
    clients = []
    for user in train.x:
        parts = [
            Dataset(f"{name}/{user}/{s}", splits[s].x[user].reshape(-1, *shape), labels[s][user],
                    kind, n_classes)
            for s in SPLITS
        ]
        clients.append(LeafClient(user, parts[0], parts[1]))
    test_x = np.concatenate([c.test.x for c in clients])
    test_y = np.concatenate([c.test.y for c in clients])
    union = Dataset(f"{name}/test", test_x, test_y, kind, n_classes)
    return LeafData(name, tuple(clients), union, kind, n_classes,
                    {**train.hierarchies, **test.hierarchies})


def _resolve_root(root: Path) -> Path:
    for candidate in (root, root / "data"):
        if all((candidate / s).is_dir() for s in SPLITS):
            return candidate
    raise DataError(
        f"{root}: no train/ and test/ folders here or in {root / 'data'}; point load_leaf at "
        "the folder holding train/*.json and test/*.json (LEAF layout)"
    )


def _read_split(folder: Path, problems: list[str]) -> _Split:
    split = _Split()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))
    if not files:
        problems.append(
            f"{folder}: no .json or .json.gz files; put the {folder.name} files of the "
            "LEAF dataset here"
        )
    for path in files:
        doc = _read_json(path, problems)
        if doc is not None:
            _read_users(path, doc, split, problems)
    return split


def _read_json(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path}: cannot read ({exc.strerror})")
        return None
    try:
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
    except (OSError, EOFError, zlib.error) as exc:
        problems.append(f"{path}: not a valid gzip file ({exc}); download it again")
        return None
    except json.JSONDecodeError as exc:
        problems.append(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 JSON text ({exc.reason})")
        return None
    if not isinstance(doc, dict) or any(k not in doc for k in LEAF_KEYS):
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        problems.append(
            f"{path}: top level has {found}; a LEAF file is an object with keys "
            f"{list(LEAF_KEYS)} (and optionally 'hierarchies')"
        )
        return None
    return doc


def _read_users(path: Path, doc: dict[str, Any], split: _Split, problems: list[str]) -> None:
    users, counts, data = doc["users"], doc["num_samples"], doc["user_data"]
    if not (isinstance(users, list) and isinstance(counts, list) and isinstance(data, dict)):
        problems.append(
            f"{path}: 'users' and 'num_samples' must be lists and 'user_data' an object"
        )
        return
    if len(users) != len(counts):
        problems.append(
            f"{path}: {len(users)} users but {len(counts)} num_samples; they are parallel lists"
        )
        return
    hier = doc.get("hierarchies")
    if hier is not None and not (isinstance(hier, list) and len(hier) == len(users)):
        problems.append(f"{path}: 'hierarchies' must be a list with one entry per user")
        hier = None
    for i, (raw_user, count) in enumerate(zip(users, counts, strict=True)):
        user = str(raw_user)
        where = f"{path}: user {user!r}"
        if user in split.x:
            problems.append(f"{where}: already in {split.where[user]}; users must be unique")
            continue
        entry = data.get(user)
        if not (isinstance(entry, dict) and isinstance(entry.get("x"), list)
                and isinstance(entry.get("y"), list)):
            problems.append(f"{where}: user_data has no {{'x': [...], 'y': [...]}} for this user")
            continue
        x_list, y_list = entry["x"], entry["y"]
        if not (len(x_list) == len(y_list) == count):
            problems.append(
                f"{where}: num_samples says {count} but x has {len(x_list)} and y "
                f"{len(y_list)} entries; all three must match"
            )
            continue
        if count == 0:
            problems.append(f"{where}: no samples; drop the user or give it data")
            continue
        x, problem = _features(x_list)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        split.x[user], split.y[user], split.where[user] = x, y_list, where
        if hier is not None:
            split.hierarchies[user] = hier[i]
    extra = sorted(str(u) for u in data if str(u) not in {str(v) for v in users})
    if extra:
        problems.append(
            f"{path}: user_data has users {extra[:5]} that 'users' does not list; list them"
        )


def _features(x: list[Any]) -> tuple[np.ndarray, str | None]:
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (ValueError, TypeError):
        if any(isinstance(v, str) for v in _first_values(x)):
            return np.empty(0), (
                "x holds text; only numeric features are read (text datasets such as "
                "Shakespeare or Sent140 need a tokenizer)"
            )
        lengths = sorted({len(r) for r in x if isinstance(r, list)})
        return np.empty(0), (
            f"x is ragged (rows of lengths {lengths[:6]}) or not numeric; every sample must "
            "be a list of numbers of the same length"
        )
    if arr.ndim == 1:
        arr = arr[:, None]
    if not np.isfinite(arr).all():
        return arr, "x holds NaN or infinity; features must be finite numbers"
    return arr.reshape(len(arr), -1), None


def _first_values(x: list[Any]) -> list[Any]:
    row = x[0] if x else None
    while isinstance(row, list) and row and isinstance(row[0], list):
        row = row[0]
    return [*(row if isinstance(row, list) else [row]), *x[:5]]


def _feature_shape(splits: dict[str, _Split], image_shape: tuple[int, ...] | None,
                   problems: list[str]) -> tuple[int, ...]:
    sizes = [(s.where[u], arr.shape[1]) for s in splits.values() for u, arr in s.x.items()]
    if not sizes:
        return (0,)
    first_where, size = sizes[0]
    for where, other in sizes[1:]:
        if other != size:
            problems.append(
                f"{where}: samples have {other} features but {first_where} has {size}; every "
                "sample of a dataset needs the same number of features"
            )
    if image_shape is None:
        return (size,)
    shape = tuple(int(d) for d in image_shape)
    if not shape or min(shape) < 1 or math.prod(shape) != size:
        problems.append(
            f"image_shape {image_shape} holds {math.prod(shape)} values but the samples have "
            f"{size} features; use a shape whose product is {size}, e.g. (1, 28, 28) for 784"
        )
    return shape


def _label_task(splits: dict[str, _Split], task: str, problems: list[str]) -> Literal[
        "classification", "regression"]:
    first: dict[str, str] = {}
    for s in splits.values():
        for user, y in s.y.items():
            kinds = {"int" if isinstance(v, int) and not isinstance(v, bool)
                     else "float" if isinstance(v, float) else "other" for v in y}
            if "other" in kinds:
                bad = next(v for v in y if isinstance(v, bool) or not isinstance(v, int | float))
                problems.append(
                    f"{s.where[user]}: label {bad!r} is not a number; y must hold integer "
                    "class labels or float targets"
                )
            for kind in kinds - {"other"}:
                first.setdefault(kind, s.where[user])
    if task == "auto" and len(first) == 2:
        problems.append(
            f"labels mix integers ({first['int']}) and floats ({first['float']}); write all "
            "labels as integers (classification) or floats (regression), or pass "
            "task='classification' or task='regression'"
        )
    if task == "regression" or (task == "auto" and "float" in first):
        return "regression"
    if task == "classification":
        for s in splits.values():
            for user, y in s.y.items():
                fractional = [v for v in y if isinstance(v, float) and not float(v).is_integer()]
                if fractional:
                    problems.append(
                        f"{s.where[user]}: label {fractional[0]!r} is not an integer; class "
                        "labels must be whole numbers (use task='regression' for targets)"
                    )
    return "classification"


def _labels(y: list[Any], kind: str) -> np.ndarray:
    if kind == "regression":
        return np.asarray(y, dtype=np.float32)
    return np.asarray(y, dtype=np.float64).astype(np.int64)


def _num_classes(labels: dict[str, dict[str, np.ndarray]], kind: str, given: int | None,
                 splits: dict[str, _Split], problems: list[str]) -> int:
    if kind == "regression":
        return 0
    top = -1
    for s in SPLITS:
        for user, y in labels[s].items():
            if y.min() < 0:
                problems.append(
                    f"{splits[s].where[user]}: label {int(y.min())} is negative; class labels "
                    "are 0, 1, 2, ..."
                )
            top = max(top, int(y.max()))
    if given is None:
        return top + 1
    if given <= top:
        problems.append(f"num_classes={given} but label {top} occurs; use at least {top + 1}")
    return int(given)
