"""The HRG fit as JSON: what ``simfl hrg`` writes and what an SGFusion run can read back.

SGFusion (arXiv 2510.23455) samples fusion partners from a fitted dendrogram of zones. The
file holds::

    {"zones": [...], "tree": nested lists of zone names, "d": [d_r per internal node],
     "loss": sum of d, "method": "exact" | "mcmc" | "average_linkage",
     "nodes": [{"left": [...zones], "right": [...zones], "d": d_r}, ...], "trace": {...}}

``d`` and ``nodes`` list the internal nodes in post-order of ``tree`` (left subtree, right
subtree, then the node; the root last). ``trace`` summarises the MCMC (null otherwise).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from simfl.algorithms.geographic.dendrogram import Dendrogram
from simfl.algorithms.geographic.hrg_fit import METHODS, HrgFit
from simfl.errors import DataError


def fit_to_json(fit: HrgFit) -> dict[str, Any]:
    """Return the JSON-ready description of ``fit`` (see the module docstring)."""
    tree = fit.tree.canonical()
    if tree != fit.tree:
        raise ValueError("fit.tree must be canonical (every fit_hrg result is)")
    sets = tree.leaf_sets
    nodes = [{"left": [tree.names[i] for i in sets[a]], "right": [tree.names[i] for i in sets[b]],
              "d": float(d)} for (a, b), d in zip(tree.merges, fit.d, strict=True)]
    trace = None
    if fit.trace is not None and fit.trace.sweeps:
        t = fit.trace
        trace = {
            "sweeps": t.sweeps,
            "moves_proposed": t.moves_proposed,
            "run_loss": [float(x) for x in t.run_loss],
            "t_start": float(t.temperature[0]),
            "accept_rate": float(np.mean(t.accept_rate)),
            "uphill_accept_rate": float(np.nanmean(t.uphill_accept_rate))
            if np.isfinite(t.uphill_accept_rate).any() else None,
        }
    return {"zones": list(tree.names), "tree": tree.to_nested(), "d": [float(x) for x in fit.d],
            "loss": float(fit.loss), "method": fit.method, "nodes": nodes, "trace": trace}


def read_hrg_json(path: str | Path) -> HrgFit:
    """Return the fit stored in a JSON file written by ``simfl hrg`` (without its trace).

    Raises
    ------
    DataError
        If the file is missing or not valid JSON, or its tree, ``d``, ``loss`` or ``method``
        are missing or inconsistent (every problem, one line each).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; write one with 'simfl hrg DISTANCES --out {path}'")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 JSON text ({exc.reason}); give the tree JSON that "
                        "'simfl hrg' writes") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a JSON object with keys tree, d, loss, method")
    problems = [f"{path}: key {key!r} is missing" for key in ("tree", "d", "loss", "method")
                if key not in obj]
    if problems:
        raise DataError(problems)
    try:
        tree = Dendrogram.from_nested(obj["tree"], obj.get("zones"))
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: tree: {exc}") from None
    d = obj["d"]
    if (not isinstance(d, list) or len(d) != tree.n_zones - 1
            or not all(isinstance(x, int | float) and math.isfinite(x) for x in d)):
        problems.append(f"{path}: d must be a list of {tree.n_zones - 1} finite numbers, one per "
                        "internal node in post-order of tree")
    elif not isinstance(obj["loss"], int | float) or abs(sum(d) - obj["loss"]) > 1e-9 * max(
            1.0, abs(sum(d))):
        problems.append(f"{path}: loss {obj['loss']!r} is not the sum of d ({sum(d):.6g})")
    if obj["method"] not in METHODS[1:]:
        problems.append(f"{path}: method {obj['method']!r} is not one of "
                        f"{', '.join(METHODS[1:])}")
    if problems:
        raise DataError(problems)
    return HrgFit(tree=tree, d=np.asarray(d, dtype=float), loss=float(obj["loss"]),
                  method=obj["method"])
