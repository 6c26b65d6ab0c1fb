"""Orbital planes of a catalog: satellites grouped by inclination and right ascension."""

from __future__ import annotations

import numpy as np

from simfl.orbits.elements import ElementSet


def planes_of(elements: list[ElementSet], raan_bucket_deg: float = 4.0) -> dict[str, int]:
    """Return a plane index per satellite name, clustering by inclination and RAAN.

    Inclination is rounded to 1 deg and the right ascension of the ascending node to
    ``raan_bucket_deg``; plane indices are numbered in catalog order. Real catalogs whose
    planes drift (differential J2 precession) may split a plane near a bucket edge.
    """
    keys: dict[tuple[int, int], int] = {}
    out: dict[str, int] = {}
    for e in elements:
        sat = e.satrec()
        inc = round(np.degrees(sat.inclo))
        raan = round(np.degrees(sat.nodeo) / raan_bucket_deg) % int(360 / raan_bucket_deg)
        out[e.name] = keys.setdefault((inc, raan), len(keys))
    return out
