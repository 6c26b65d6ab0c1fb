"""Rules that span several keys, as pure functions over plain values.

pydantic runs a section's cross-key rule only once every field of that section (and, for
scenario-wide rules, of every section) is valid, so a file with a wrong type somewhere would
hide them until a second ``validate``. The schema's validators call these functions, and
:func:`cross_key_problems` applies them to the raw YAML data beforehand, so that every
problem is reported at once. Each returns a list of messages (empty when the rule holds).
"""

from __future__ import annotations

import re
from typing import Any

from simfl.scenario.geo_rules import geo_cross_key_problems
from simfl.scenario.registry import config_of
from simfl.scenario.source import YamlPath
from simfl.scenario.units import parse_quantity

FILE_DATASETS = ("mnist", "fashion-mnist", "cifar10", "leaf", "fitrec")

RULE_SEPARATOR = " | "
"""Joins several broken rules into one validator message (no rule message contains it)."""


def data_path_rule(dataset: object, path: object) -> list[str]:
    """A dataset read from files needs ``data.path``."""
    if dataset in FILE_DATASETS and path is None:
        if dataset == "fitrec":
            return ["dataset 'fitrec' is read from a file: set data.path to FitRec's "
                    "endomondoHR_proper.json (the built-in stand-in is 'geo_workouts')"]
        return [f"dataset {dataset!r} is read from files: set data.path to the directory that "
                "holds them (the built-in datasets are 'digits', 'synthetic' and "
                "'geo_workouts')"]
    return []


NATURAL_SPLIT_DATASETS = ("synthetic", "leaf", "geo_workouts", "fitrec")
"""Datasets whose users come with their own test data."""


def client_test_rule(dataset: object, client_test: object) -> list[str]:
    """``natural`` client test data needs a dataset with per-user test splits."""
    if client_test == "natural" and dataset not in NATURAL_SPLIT_DATASETS:
        return [f"client_test 'natural' uses each user's own test split, which {dataset!r} "
                f"does not have (only {', '.join(NATURAL_SPLIT_DATASETS)}); use "
                "'proportional' or 'holdout'"]
    return []


def image_shape_rule(dataset: object, image_shape: object) -> list[str]:
    """``image_shape`` reshapes LEAF feature vectors; other datasets know their shapes."""
    if image_shape is not None and dataset != "leaf":
        return [f"image_shape is only read with dataset 'leaf' (it is {dataset!r}, whose "
                "samples have their shape already); remove it"]
    return []


def groups_rule(scheme: object, groups: object) -> list[str]:
    """Scheme ``groups`` needs the groups."""
    if scheme == "groups" and not groups:
        return ["scheme 'groups' needs groups: a list of label lists, e.g. [[0, 1], [2, 3]]"]
    return []


def epochs_steps_rule(epochs: object, steps: object) -> list[str]:
    """Exactly one of ``training.epochs`` and ``training.steps``."""
    if (epochs is None) == (steps is None):
        return ["set exactly one of training.epochs and training.steps (set the other to null)"]
    return []


def resnet_width_rule(kind: object, hidden: object) -> list[str]:
    """A ResNet takes one base width in ``model.hidden``."""
    if kind in ("resnet8", "resnet18") and isinstance(hidden, list) and len(hidden) != 1:
        return [f"model {kind} takes one base width in hidden, got {hidden}; write e.g. "
                "hidden: [16] (stage widths double from it)"]
    return []


def constellation_rule(tle: object, walker: object) -> list[str]:
    """Exactly one constellation source."""
    if (tle is None) == (walker is None):
        return ["give exactly one of constellation.tle (a TLE or OMM file, e.g. "
                "orbits/demo_shell_12.tle) and constellation.walker"]
    return []


def walker_rule(satellites: object, planes: object, phasing: object) -> list[str]:
    """A Walker i:T/P/F pattern needs P | T and 0 <= F < P."""
    out = []
    if isinstance(satellites, int) and isinstance(planes, int) and planes > 0:
        if satellites % planes:
            out.append(f"satellites ({satellites}) must be a multiple of planes ({planes})")
        if isinstance(phasing, int) and phasing >= planes:
            out.append(f"phasing must be in 0..planes-1 (0..{planes - 1}), got {phasing}")
    return out


def unique_names_rule(names: list[object]) -> list[str]:
    """Region and ground-station names are unique."""
    dupes = sorted({str(n) for n in names if names.count(n) > 1})
    if dupes:
        return [f"region and ground-station names must be unique; repeated: {', '.join(dupes)}"]
    return []


def space_rule(
    algorithm: object,
    needs_space: bool,
    scheme: object,
    has_space: bool,
    devices: list[object] | None,
    num_clients: object,
    duration_s: float | None,
    horizon_s: float | None,
) -> list[tuple[YamlPath, str]]:
    """The scenario-wide rules tying the algorithm, the partition and the space section.

    Each message comes with the YAML path it is best reported at.
    """
    out: list[tuple[YamlPath, str]] = []
    if needs_space and not has_space:
        out.append((("algorithm", "name"), f"algorithm {algorithm!r} runs over satellites: add "
                    "a space section (constellation, regions), e.g. as in "
                    "scenarios/fedmeld_demo.yaml"))
    if scheme == "region_dirichlet" and not has_space:
        out.append((("partition", "scheme"), "partition.scheme 'region_dirichlet' splits data "
                    "over space.regions; add a space section or use 'dirichlet'"))
    if devices and any(d is not None for d in devices):
        if any(d is None for d in devices):
            out.append((("space", "regions"), "space.regions: give 'devices' for every region "
                        "or for none (then devices are split equally)"))
        elif all(isinstance(d, int) for d in devices) and isinstance(num_clients, int):
            total = sum(d for d in devices if isinstance(d, int))
            if total != num_clients:
                out.append((("space", "regions"), f"space.regions: devices add up to {total} "
                            f"but partition.num_clients is {num_clients}; make them equal"))
    if (needs_space and has_space and duration_s is not None
            and horizon_s is not None and duration_s > horizon_s):
        out.append((("algorithm", "duration_s"), f"algorithm.duration_s ({duration_s:g} s) is "
                    f"longer than space.horizon_s ({horizon_s:g} s), the span of the contact "
                    "plan; raise horizon_s or shorten the run"))
    return out


DEFAULT_GROUP_COUNT = 4
"""Groups made when ``groups.count`` is not given (and no members or file fix it)."""


def groups_section_rule(
    assignment: object, count: object, members: object, file: object,
    num_names: int | None, num_positions: int | None,
) -> list[str]:
    """The ``groups`` section's keys fit its assignment and each other."""
    out = []
    if assignment == "explicit" and not members:
        out.append("assignment 'explicit' needs members: a list of client-index lists, e.g. "
                   "[[0, 1, 2], [3, 4]]")
    if assignment != "explicit" and members is not None:
        out.append(f"members are only read with assignment 'explicit' (it is {assignment!r}); "
                   "remove them or set assignment: explicit")
    if assignment == "file" and file is None:
        out.append("assignment 'file' needs file: a CSV with a header 'client,group'")
    if assignment != "file" and file is not None:
        out.append(f"file is only read with assignment 'file' (it is {assignment!r})")
    if isinstance(members, list) and members and isinstance(count, int) and count != len(
            members):
        out.append(f"count ({count}) differs from the {len(members)} member lists; drop count")
    if assignment == "zones" and num_names is not None:
        out.append("names are the zones' own with assignment 'zones'; remove names")
    if assignment in ("region", "file", "zones") and count is not None:
        setter = {"region": "space regions", "file": "file", "zones": "dataset's zones"}
        out.append(f"count is set by the {setter[str(assignment)]}; remove it")
    if assignment == "region" and (num_names is not None or num_positions is not None):
        out.append("names and positions of region groups are those of space.regions; "
                   "remove them here")
    expected = (len(members) if isinstance(members, list) and members
                else count if count is not None
                else None if assignment in ("explicit", "file", "region", "zones")
                else DEFAULT_GROUP_COUNT)
    by_default = count is None and expected == DEFAULT_GROUP_COUNT and not members
    hint, fix = (" (the default count)", ", or set count") if by_default else ("", "")
    for what, n in (("names", num_names), ("positions", num_positions)):
        if n is not None and isinstance(expected, int) and n != expected:
            out.append(f"{n} {what} for {expected} groups{hint}; give one per group{fix}")
    return out


def unique_group_names_rule(names: list[str]) -> list[str]:
    """Group names are unique."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    return [f"group names must be unique; repeated: {', '.join(dupes)}"] if dupes else []


RESERVED_NODE_NAMES = re.compile(r"cloud|client-\d+")
"""Node names every world has (the cloud, the devices): no group server may take them."""


def group_server_names_rule(names: object) -> list[str]:
    """A group's server is a node named like the group: not ``cloud``, not a device's name."""
    if not isinstance(names, list):
        return []
    return [f"{name!r} would name two nodes (a device, a satellite or the "
            "cloud); rename the group" for name in names
            if isinstance(name, str) and RESERVED_NODE_NAMES.fullmatch(name)]


def group_members_rule(members: object, num_clients: int) -> list[str]:
    """Explicit members list every client ``0 .. num_clients - 1`` exactly once.

    :func:`simfl.learning.grouping.explicit_groups` applies the same rule when the world is
    built (it cannot be imported here: ``simfl.learning`` loads torch, which ``validate``
    must not); checking it here makes ``validate`` refuse what ``run`` would.
    """
    if not isinstance(members, list):
        return []
    out: list[str] = []
    seen: dict[int, int] = {}
    for j, group in enumerate(members):
        if not isinstance(group, list):
            return []  # the schema reports the type
        if not group:
            out.append(f"members[{j}] is empty; every group needs a client")
        for i in group:
            if not isinstance(i, int):
                return []
            if not 0 <= i < num_clients:
                out.append(f"members[{j}]: client {i} does not exist (clients are "
                           f"0..{num_clients - 1})")
            elif i in seen:
                out.append(f"members[{j}]: client {i} is already in group {seen[i]}; "
                           "a client belongs to one group")
            else:
                seen[i] = j
    missing = [i for i in range(num_clients) if i not in seen]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        out.append(f"clients {shown} are in no group; list every client once")
    return out


PER_USER_DATASETS = ("geo_workouts", "fitrec")
"""Datasets whose clients are their users, however many the data hold
(``partition.num_clients`` does not apply)."""


def clients_known(dataset: object, num_clients_set: bool) -> bool:
    """Return whether ``partition.num_clients`` is the number of clients before the data are
    loaded: not for per-user datasets, nor for LEAF unless it is set (then the first ones)."""
    if dataset in PER_USER_DATASETS:
        return False
    return dataset != "leaf" or num_clients_set


def groups_clients_rule(assignment: object, count: object, num_clients: object,
                        has_space: bool, names: object = None, members: object = None,
                        clients_known: bool = True) -> list[tuple[YamlPath, str]]:
    """Every group gets a client, region groups need regions, servers have free names.

    ``clients_known`` is False where the number of clients comes from the data (see
    :func:`clients_known`): explicit members and the group count are then checked at run.
    """
    out: list[tuple[YamlPath, str]] = [(("groups", "names"), m)
                                       for m in group_server_names_rule(names)]
    if assignment == "explicit" and clients_known and isinstance(num_clients, int):
        out += [(("groups", "members"), m) for m in group_members_rule(members, num_clients)]
    if (assignment not in ("explicit", "file", "region", "zones")
            and isinstance(count, int) and clients_known
            and isinstance(num_clients, int) and count > num_clients):
        out.append((("groups", "count"), f"{count} groups for {num_clients} clients leaves a "
                    "group with no client; use at most partition.num_clients groups"))
    if assignment == "region" and not has_space:
        out.append((("groups", "assignment"), "assignment 'region' makes one group per "
                    "space region; add a space section or choose another assignment"))
    return out


def groups_count_rule(scheme: object, groups: object, num_clients: object) -> list[str]:
    """Scheme ``groups`` needs at least one client per group."""
    if (scheme == "groups" and isinstance(groups, list) and groups
            and isinstance(num_clients, int) and num_clients < len(groups)):
        return [f"{len(groups)} groups for {num_clients} clients leaves a group with no "
                "client; use at least one client per group"]
    return []


def region_sizes(num_clients: int, num_regions: int,
                 given: list[int | None] | None = None) -> list[int]:
    """Return how many clients each region gets: as ``given``, else nearly equal blocks."""
    if given and all(g is not None for g in given):
        return [int(g) for g in given if g is not None]
    bounds = [round(k * num_clients / num_regions) for k in range(num_regions + 1)]
    return [bounds[k + 1] - bounds[k] for k in range(num_regions)]


def _section(data: dict[str, Any], *keys: str) -> dict[str, Any] | None:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _duration(raw: object, default: float) -> float | None:
    if raw is None:
        return default
    try:
        return parse_quantity(raw, "duration")
    except ValueError:
        return None


def cross_key_problems(data: dict[str, Any]) -> list[tuple[YamlPath, str]]:
    """Return ``(path, message)`` for every cross-key rule the raw scenario data breaks.

    Section rules use the section's path, as pydantic does; scenario-wide rules use the key
    they are about. A problem found both here and by pydantic is reported once.
    """
    out: list[tuple[YamlPath, str]] = []
    if (d := _section(data, "data")) is not None:
        out += [(("data",), m) for m in data_path_rule(d.get("dataset", "digits"), d.get("path"))]
        out += [(("data", "client_test"), m) for m in client_test_rule(
            d.get("dataset", "digits"), d.get("client_test", "auto"))]
        out += [(("data", "image_shape"), m) for m in image_shape_rule(
            d.get("dataset", "digits"), d.get("image_shape"))]
    part = _section(data, "partition") or {}
    if "partition" in data:
        scheme, groups = part.get("scheme", "dirichlet"), part.get("groups")
        out += [(("partition",), m) for m in groups_rule(scheme, groups)]
        out += [(("partition", "num_clients"), m)
                for m in groups_count_rule(scheme, groups, part.get("num_clients", 100))]
    if (t := _section(data, "training")) is not None:
        epochs = t.get("epochs", None if t.get("steps") is not None else 1)
        out += [(("training",), m) for m in epochs_steps_rule(epochs, t.get("steps"))]
    space = _section(data, "space")
    if space is not None:
        if (c := _section(data, "space", "constellation")) is not None:
            out += [(("space", "constellation"), m)
                    for m in constellation_rule(c.get("tle"), c.get("walker"))]
        if (w := _section(data, "space", "constellation", "walker")) is not None:
            out += [(("space", "constellation", "walker"), m)
                    for m in walker_rule(w.get("satellites"), w.get("planes"),
                                         w.get("phasing", 0))]
        names = [r.get("name") for key in ("regions", "ground_stations")
                 for r in (space.get(key) or []) if isinstance(r, dict)]
        out += [(("space",), m) for m in unique_names_rule(names)]
    algo = _section(data, "algorithm") or {}
    config = config_of(algo.get("name", "fedavg"))
    groups = _section(data, "groups") or {}
    if config is not None and config.uses_groups:
        members, file = groups.get("members"), groups.get("file")
        count = (len(members) if isinstance(members, list) and members
                 else groups.get("count", None if file is not None else DEFAULT_GROUP_COUNT))
        known = clients_known((d or {}).get("dataset", "digits"), "num_clients" in part)
        out += groups_clients_rule(groups.get("assignment", "contiguous"), count,
                                   part.get("num_clients", 100), space is not None,
                                   groups.get("names"), members, known)
    regions = space.get("regions") if space is not None else None
    devices = ([r.get("devices") for r in regions if isinstance(r, dict)]
               if isinstance(regions, list) else None)
    needs_space = config is not None and config.needs_space
    out += geo_cross_key_problems(data, config is not None and config.needs_zones)
    out += space_rule(
        algo.get("name", "fedavg"), needs_space, part.get("scheme", "dirichlet"),
        space is not None, devices, part.get("num_clients", 100),
        _duration(algo.get("duration_s"), 12 * 3600.0),
        _duration(space.get("horizon_s") if space else None, 86400.0))
    return out
