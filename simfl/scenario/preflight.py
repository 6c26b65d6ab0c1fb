"""Checks of a valid scenario against the world outside it, before anything is simulated.

The schema checks each value and the rules in :mod:`simfl.scenario.rules` tie values
together; the checks here need more than the YAML: the constellation file and its element
sets, the dataset's size, the cache folder. They are everything a run would find wrong
before its first simulated event, so :func:`simfl.scenario.load.load_scenario` runs them
for ``simfl validate`` and ``simfl run`` alike: a scenario that validates does not fail
while the world is built.

Problems come with the YAML path they are about, like schema errors; warnings are
sentences about a scenario that runs but whose results may not mean what the user thinks.
They import neither torch nor pandas, so validation stays fast.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from simfl.atomic import folder_problem
from simfl.errors import SimflError
from simfl.scenario.rules import clients_known, region_sizes
from simfl.scenario.source import YamlPath

if TYPE_CHECKING:
    from simfl.orbits.elements import ElementSet
    from simfl.scenario.schema import Scenario

DIGITS_SAMPLES = 1797
"""Samples in scikit-learn's digits dataset (``load_digits``), the built-in default."""

IMAGE_CLASSES = 10
"""Labels of every image dataset simfl reads (digits, MNIST, Fashion-MNIST, CIFAR-10)."""

EPOCH_GAP_WARN_DAYS = 7.0
"""Warn when the run lies this far from the element sets' epochs (SGP4 drifts km per day)."""



@dataclass
class Preflight:
    """What the checks found: ``problems`` stop the scenario, ``warnings`` are reported."""

    problems: list[tuple[YamlPath, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def preflight(scenario: Scenario, *, check_files: bool = True) -> Preflight:
    """Return the problems and warnings of ``scenario`` that the schema cannot see.

    With ``check_files`` false, nothing is read from disk (the constellation file and the
    dataset's folder are left to the run).
    """
    found = Preflight()
    _check_sampling(scenario, found)
    _check_labels(scenario, found)
    _check_executor(scenario, found)
    _check_data_size(scenario, found, check_files)
    if scenario.space is not None:
        _check_space(scenario, found, check_files)
    return found


def _check_sampling(scenario: Scenario, found: Preflight) -> None:
    """Warn when ``clients_per_round`` (per region or edge server) exceeds the clients there."""
    algo = scenario.algorithm
    clients = scenario.partition.num_clients
    per_round = getattr(algo, "clients_per_round", None)
    key = "clients_per_round"
    if scenario.space is not None and getattr(algo, "needs_space", False):
        sizes = region_sizes(clients, len(scenario.space.regions),
                             [r.devices for r in scenario.space.regions])
        where = "region"
    elif getattr(algo, "uses_groups", False) and hasattr(algo, "clients_per_edge_round"):
        per_round, key = algo.clients_per_edge_round, "clients_per_edge_round"
        sizes, where = _group_sizes(scenario), "group"
    else:
        sizes, where = [clients], "scenario"
    if per_round is None or not sizes or min(sizes) < 1:
        return
    if where != "region" and not clients_known(
            scenario.data.dataset, "num_clients" in scenario.partition.model_fields_set):
        return  # the data decide how many clients there are; known at run time
    if per_round > min(sizes):
        have = (f"the scenario has {clients} clients" if where == "scenario" else
                f"the smallest {where} has {min(sizes)} client(s)")
        found.warnings.append(
            f"algorithm.{key}: {per_round} clients per round, but {have}; rounds there use "
            f"every client they have, fewer than asked")


def _group_sizes(scenario: Scenario) -> list[int]:
    """Return the clients of each client group, where the assignment alone decides them."""
    groups, clients = scenario.groups, scenario.partition.num_clients
    if groups.members is not None:
        return [len(m) for m in groups.members]
    if groups.assignment in ("contiguous", "round_robin", "random"):
        return region_sizes(clients, groups.default_count)
    return []  # from a file, the data (label clusters) or the space regions: known at run time


STACKED_KINDS = ("logreg", "mlp", "cnn", "gru", "lstm", "lstm_per_step", "gru_per_step")
"""Model kinds the batched executor trains as one stacked computation (no BatchNorm)."""


def _check_executor(scenario: Scenario, found: Preflight) -> None:
    """``training.executor: batched`` needs a model with a stacked form."""
    kind = scenario.model.kind
    if scenario.training.executor == "batched" and kind not in STACKED_KINDS:
        found.problems.append((("training", "executor"), (
            f"'batched' needs a model with a stacked form ({', '.join(STACKED_KINDS)}); "
            f"{kind!r} has none; use 'auto' (it trains such models one by one)")))


def _check_labels(scenario: Scenario, found: Preflight) -> None:
    """The model and label-based partitions fit the dataset's shape and classes."""
    data, part = scenario.data, scenario.partition
    if scenario.model.kind == "cnn" and data.dataset == "synthetic":
        found.problems.append((("model", "kind"), (
            "a cnn needs images, but the synthetic dataset is vectors of "
            f"{data.synthetic.num_features} features; use mlp, logreg, gru or lstm, or an "
            "image dataset (digits, mnist, fashion-mnist, cifar10)")))
    if scenario.model.kind == "cnn" and data.dataset == "leaf" and data.image_shape is None:
        found.problems.append((("model", "kind"), (
            "a cnn needs images, but LEAF data are feature vectors; set data.image_shape, "
            "e.g. [1, 28, 28] for FEMNIST, or use mlp or logreg")))
    if data.dataset in ("synthetic", "leaf"):
        return  # naturally federated: the partition section does not apply
    classes = IMAGE_CLASSES
    if part.scheme == "labels_per_client" and part.labels_per_client > classes:
        found.problems.append((("partition", "labels_per_client"), (
            f"{part.labels_per_client} labels per client, but {data.dataset} has {classes} "
            f"labels; use 1 to {classes}")))
    for g, group in enumerate((part.groups or []) if part.scheme == "groups" else []):
        where: YamlPath = ("partition", "groups", g)
        if not group:
            found.problems.append((where, "a group lists no labels; give at least one"))
        if len(set(group)) != len(group):
            found.problems.append((where, f"a group lists a label twice: {group}"))
        absent = sorted({c for c in group if not 0 <= c < classes})
        if absent:
            found.problems.append((where, f"labels {absent} are not in {data.dataset}, whose "
                                          f"labels are 0 to {classes - 1}"))


def _train_samples(scenario: Scenario, check_files: bool) -> int | None:
    """Return the number of training samples before partitioning (None if not knowable)."""
    data = scenario.data
    if data.dataset == "digits":
        return DIGITS_SAMPLES - math.ceil(data.test_fraction * DIGITS_SAMPLES)
    if not check_files or data.path is None or not Path(data.path).is_dir():
        return None  # a missing folder is reported elsewhere
    if data.dataset == "cifar10":
        from simfl.learning.cifar import cifar10_train_samples

        return cifar10_train_samples(data.path)
    if data.dataset in ("mnist", "fashion-mnist"):
        from simfl.learning.idx import mnist_train_samples

        return mnist_train_samples(data.path)
    return None  # synthetic and LEAF data come per client


def _check_data_size(scenario: Scenario, found: Preflight, check_files: bool) -> None:
    """Every client can get its minimum number of samples."""
    part = scenario.partition
    try:
        samples = _train_samples(scenario, check_files)
    except SimflError as exc:
        found.problems.extend((("data", "path"), p) for p in exc.problems)
        return
    if samples is None:
        return
    dataset = scenario.data.dataset
    if samples < 1:
        found.problems.append((("data", "test_fraction"), (
            f"{scenario.data.test_fraction} of the {dataset} samples held out for testing leaves "
            "none to train on; use a test_fraction such as 0.2")))
        return
    if part.num_clients > samples:
        found.problems.append((("partition", "num_clients"), (
            f"{part.num_clients} clients but the {dataset} training set has {samples} samples; "
            f"every client needs at least one, so use at most {samples} clients")))
        return
    need = part.num_clients * part.min_samples_per_client
    if part.scheme == "region_dirichlet" and scenario.space is not None:
        sizes = region_sizes(part.num_clients, len(scenario.space.regions),
                             [r.devices for r in scenario.space.regions])
        need = len(sizes) * max(sizes) * part.min_samples_per_client
    if part.scheme in ("dirichlet", "region_dirichlet") and need > samples:
        found.problems.append((("partition", "min_samples_per_client"), (
            f"{part.min_samples_per_client} samples for each of {part.num_clients} clients "
            f"needs {need} samples but the {dataset} training set has {samples}; lower it or "
            "use fewer clients")))


def _check_space(scenario: Scenario, found: Preflight, check_files: bool) -> None:
    space = scenario.space
    assert space is not None
    con = space.constellation
    algo = scenario.algorithm
    needs_stations = algo.needs_ground_stations
    if needs_stations and not space.ground_stations:
        found.problems.append((("space", "ground_stations"), (
            f"{scenario.algorithm.name} relays region models through ground stations but none "
            "is given; add at least one, e.g. [{name: gs0, lat_deg: 48.1, lon_deg: 11.6}]")))
    if scenario.partition.num_clients < len(space.regions):
        found.problems.append((("partition", "num_clients"), (
            f"{scenario.partition.num_clients} clients for {len(space.regions)} regions; every "
            f"region needs a device, so use at least {len(space.regions)}")))
    if con.names_regex is not None:
        try:
            re.compile(con.names_regex)
        except re.error as err:
            found.problems.append((("space", "constellation", "names_regex"), (
                f"{con.names_regex!r} is not a valid regular expression ({err}); use Python re "
                "syntax, e.g. '^STARLINK-1[0-9]{3}$'")))
            return
    if check_files:
        _check_cache_dir(space.cache_dir, found)
    if con.tle is None or not check_files:
        return
    try:
        elements = _selected_elements(Path(con.tle), con.names_regex, con.limit)
    except SimflError as exc:
        found.problems.extend((("space", "constellation", "tle"), p) for p in exc.problems)
        return
    _check_names(scenario, elements, found)
    _check_epochs(scenario, elements, found)


def _selected_elements(path: Path, names_regex: str | None, limit: int | None
                       ) -> tuple[ElementSet, ...]:
    """Return the element sets a run would use (the file is read once per version)."""
    if path.is_dir():
        raise SimflError(f"{path} is a folder; give a TLE, OMM JSON or OMM CSV file, e.g. "
                         "orbits/demo_shell_12.tle")
    if not path.exists():
        raise SimflError(f"{path} does not exist (in a scenario file a relative path is read "
                         "from the file's folder; in an -o override from the current directory "
                         f"{Path.cwd()}); the shipped shells are in the repository's orbits/ "
                         "folder, e.g. orbits/demo_shell_12.tle")
    stat = path.stat()
    return _load_selected(str(path.resolve()), stat.st_mtime_ns, stat.st_size, names_regex,
                          limit)


@lru_cache(maxsize=8)
def _load_selected(path: str, _mtime_ns: int, _size: int, names_regex: str | None,
                   limit: int | None) -> tuple[ElementSet, ...]:
    from simfl.orbits.catalog import duplicate_problems, load_elements, select

    elements = load_elements(path)
    if names_regex is not None or limit is not None:
        elements = select(elements, names_regex=names_regex, limit=limit)
    problems = duplicate_problems(elements, path)
    if problems:
        raise SimflError(problems)
    return tuple(elements)


def _check_names(scenario: Scenario, elements: tuple[ElementSet, ...], found: Preflight) -> None:
    """Satellites, ground stations, devices and the cloud are nodes with distinct names."""
    assert scenario.space is not None
    satellites = {e.name for e in elements}
    stations = [g.name for g in scenario.space.ground_stations]
    taken = {"cloud"} | {f"client-{i}" for i in range(scenario.partition.num_clients)}
    clashes = sorted({n for n in [*satellites, *stations] if n in taken}
                     | (set(stations) & satellites))
    if clashes:
        found.problems.append((("space", "ground_stations"), (
            f"{', '.join(clashes)} would name two nodes (a satellite, a ground station, a "
            "device or the cloud); rename the ground station(s)")))


def _check_epochs(scenario: Scenario, elements: tuple[ElementSet, ...], found: Preflight) -> None:
    """Warn when the run lies days away from the element sets' epochs."""
    assert scenario.space is not None
    if not elements:
        return
    epochs = sorted(e.epoch_utc for e in elements)
    start = scenario.epoch
    end = start + timedelta(seconds=scenario.space.horizon_s)
    worst_days = max(abs((t - e).total_seconds()) for t in (start, end)
                     for e in (epochs[0], epochs[-1])) / 86400.0
    if worst_days > EPOCH_GAP_WARN_DAYS:
        found.warnings.append(
            f"space.constellation.tle: the run spans {start:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M} UTC but the element sets' epochs are "
            f"{epochs[0]:%Y-%m-%d} to {epochs[-1]:%Y-%m-%d}, up to {worst_days:,.0f} days "
            "apart; SGP4 positions drift by kilometres per day away from an epoch, so these "
            "contacts are not real; set 'epoch' near the element sets' epochs or fetch "
            "current ones (simfl tle fetch)")


def _check_cache_dir(cache_dir: object, found: Preflight) -> None:
    """The contact cache folder is a folder (or can become one)."""
    from simfl.orbits.cache import resolve_cache_dir

    folder = resolve_cache_dir(cache_dir)
    if folder is None:
        return
    problem = folder_problem(folder)
    if problem is not None and "not writable" in problem:
        found.warnings.append(f"space.cache_dir {folder}: {problem}, or contact plans are "
                              "recomputed on every run")
    elif problem is not None:
        found.problems.append((("space", "cache_dir"), (
            f"{folder} {problem}, 'user' (the user cache folder) or null (no cache)")))
