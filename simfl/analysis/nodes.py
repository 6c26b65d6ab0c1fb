"""Node order for figures: infrastructure first, then satellites, then clients, naturally.

Node names come from scenarios (``"cloud"``, ``"edge-0"``, ``"gs-svalbard"``, ``"sat-12"``,
``"client-10"``). Figures list them in a fixed, readable order: the global model and the
cloud, then edge servers, regions and ground stations, then satellites, then anything else,
then clients and devices; within a group by natural order (``"client-2" < "client-10"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(\d+)")

_GROUPS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("global", "personalized", "consensus", "cloud", "server")),
    (1, ("edge", "region", "gs", "ground", "station", "site", "hap")),
    (2, ("sat", "leo", "meo", "geo", "starlink", "oneweb", "iridium", "planet")),
    (4, ("client", "device", "worker", "user", "ue")),
)
_OTHER_GROUP = 3


def node_group(name: str) -> int:
    """Return the sort group of a node name: 0 cloud, 1 edge/ground, 2 satellite, 3 other,
    4 client."""
    head = re.split(r"[-_ .:/(\d]", name.strip().lower(), maxsplit=1)[0]
    for group, prefixes in _GROUPS:
        if head in prefixes:
            return group
    return _OTHER_GROUP


def node_sort_key(name: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Return a key that sorts node names by group, then naturally (numbers as numbers)."""
    parts = tuple(
        (1, int(p)) if p.isdigit() else (0, p.lower()) for p in _DIGITS.split(name) if p
    )
    return node_group(name), parts


def sort_nodes(names: Iterable[str]) -> list[str]:
    """Return the distinct names in ``names``, in figure order (see :func:`node_sort_key`)."""
    return sorted({str(n) for n in names}, key=node_sort_key)
