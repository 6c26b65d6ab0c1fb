"""The finished runs of a study, stored one by one as they finish, so a study can resume.

A study directory keeps ``runs/<key>.metrics.parquet`` and then ``runs/<key>.json`` (the
summary, written last: a run is stored when its JSON exists) for every finished variant;
``<key>`` is a digest of the variant's resolved scenario, so resuming reuses exactly the
variants that are the same and runs the rest. A failure or a Ctrl-C of one variant leaves the
finished ones in place.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from simfl.studies.executors import JobResult


def variant_key(scenario_data: dict[str, Any]) -> str:
    """Return the digest that names a variant's stored run (its resolved scenario's)."""
    text = json.dumps(scenario_data, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class RunStore:
    """Finished runs of one study directory, by variant key."""

    def __init__(self, study_dir: Path) -> None:
        self.folder = study_dir / "runs"

    def load(self, key: str) -> JobResult | None:
        """Return the stored run ``key``, or None if it is not (completely) stored."""
        import pandas as pd

        summary_path = self.folder / f"{key}.json"
        if not summary_path.is_file():
            return None
        try:
            stored = json.loads(summary_path.read_text())
            metrics = pd.read_parquet(self.folder / f"{key}.metrics.parquet")
        except (OSError, ValueError):
            return None  # damaged: run it again
        return JobResult(stored["label"], stored["summary"], metrics)

    def save(self, key: str, result: JobResult) -> None:
        """Store ``result`` (metrics first, then the summary, each atomically)."""
        from simfl.atomic import atomic_path, write_json

        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.folder / f"{key}.metrics.parquet") as tmp:
            result.metrics.to_parquet(tmp, index=False)
        write_json(self.folder / f"{key}.json", {"label": result.label,
                                                  "summary": result.summary})
