"""The orbital commands of the ``simfl`` CLI: ``contacts`` and ``tle fetch``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from simfl import atomic
from simfl.errors import SimflError

MAX_HOURS = 366 * 24.0

if TYPE_CHECKING:
    import pandas as pd

    from simfl.orbits.elements import ElementSet
    from simfl.orbits.sites import GroundSite


def _parse_utc(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SimflError(f"--start {text!r} is not an ISO 8601 time; write it like "
                         "2026-02-24T12:00:00Z") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cmd_contacts(args: argparse.Namespace) -> int:
    """Compute a contact plan and write it (parquet or CSV), with optional figures."""
    from simfl.atomic import atomic_path
    from simfl.orbits.catalog import duplicate_problems, load_elements
    from simfl.orbits.contacts import compute_contacts
    from simfl.orbits.site_file import load_sites

    _check_contact_args(args)
    start = _parse_utc(args.start)
    elements = load_elements(args.tle)
    duplicates = duplicate_problems(elements, str(args.tle))
    if duplicates:
        raise SimflError(duplicates)
    sites = load_sites(args.sites, args.mask_deg)
    plan = compute_contacts(elements, sites, start, args.hours * 3600.0,
                            coarse_step_s=args.step_s, workers=args.workers,
                            cache_dir=args.cache_dir, progress=not args.quiet)
    with atomic_path(args.out) as tmp:
        if args.out.suffix.lower() == ".csv":
            plan.to_csv(tmp, index=False)
        else:
            plan.to_parquet(tmp, index=False)
    print(f"{len(plan)} passes of {plan['satellite'].nunique()} of {len(elements)} satellites "
          f"over {len(sites)} sites in {args.hours:g} h from {start.isoformat()}; wrote {args.out}")
    if args.figures is not None:
        _contact_figures(args.figures, plan, elements, sites, start, args.hours * 3600.0)
        print(f"figures: {args.figures}")
    return 0


def _check_contact_args(args: argparse.Namespace) -> None:
    """Refuse bad numbers and output paths before any work, one line each."""
    problems = []
    if not 0 < args.hours <= MAX_HOURS:
        problems.append(f"--hours {args.hours:g}: give a plan length in (0, {MAX_HOURS:g}] "
                        "hours (SGP4 element sets are good for days, not years)")
    if args.mask_deg is not None and not 0 <= args.mask_deg < 90:
        problems.append(f"--mask-deg {args.mask_deg:g}: an elevation mask is in [0, 90) deg; "
                        "typical masks are 10 (ground stations) to 25-40 (user terminals)")
    if args.workers is not None and args.workers < 1:
        problems.append(f"--workers {args.workers}: give 1 or more processes")
    if args.out.suffix.lower() not in (".parquet", ".csv"):
        problems.append(f"--out {args.out}: the plan is written as .parquet or .csv; "
                        "give a file name with one of those endings")
    elif args.out.is_dir():
        problems.append(f"--out {args.out}: is a folder; give a file name")
    for flag, folder in (("--cache-dir", args.cache_dir), ("--figures", args.figures)):
        problem = atomic.folder_problem(folder) if folder is not None else None
        if problem:
            problems.append(f"{flag} {folder}: {problem}")
    if problems:
        raise SimflError(problems)


def _contact_figures(
    out_dir: Path,
    plan: pd.DataFrame,
    elements: list[ElementSet],
    sites: list[GroundSite],
    start: datetime,
    duration_s: float,
) -> None:
    import numpy as np
    import pandas as pd

    from simfl.analysis.orbit_figures import plot_contact_gantt, plot_elevation, plot_ground_tracks
    from simfl.orbits.contacts import elevation_deg
    from simfl.orbits.ground_track import ground_tracks

    plot_contact_gantt(plan, path=out_dir / "contact_gantt.png")
    busiest = plan["satellite"].value_counts().index[:6].tolist() or [elements[0].name]
    chosen = [e for e in elements if e.name in set(busiest)]
    tracks = ground_tracks(chosen, start, min(duration_s, 3 * 3600.0), step_s=30.0)
    site_frame = pd.DataFrame([{"name": s.name, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
                               for s in sites])
    plot_ground_tracks(tracks, site_frame, path=out_dir / "ground_tracks.png")
    site = sites[0]
    t_s = np.arange(0.0, duration_s, 20.0)
    series = []
    for e in chosen[:4]:
        series.append(pd.DataFrame({"satellite": e.name, "site": site.name, "t_s": t_s,
                                    "elevation_deg": elevation_deg(e, site, t_s, start)}))
    plot_elevation(pd.concat(series, ignore_index=True), mask_deg=site.elevation_mask_deg,
                   path=out_dir / "elevation.png")


def cmd_tle_fetch(args: argparse.Namespace) -> int:
    """Download a CelesTrak group to a file."""
    from simfl.orbits.fetch import fetch_celestrak_group

    kwargs = {"base_url": args.base_url} if args.base_url else {}
    path = fetch_celestrak_group(args.group, args.out, fmt=args.format, **kwargs)
    print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Add ``contacts`` and ``tle`` to the CLI's subcommands."""
    p = sub.add_parser("contacts", help="compute a contact plan (satellites x sites)")
    p.add_argument("--tle", type=Path, required=True, help="TLE, OMM JSON or OMM CSV catalog")
    p.add_argument("--sites", type=Path, required=True,
                   help="YAML list or CSV of sites: name, lat_deg, lon_deg[, alt_m, "
                        "elevation_mask_deg]")
    p.add_argument("--start", required=True, help="UTC start, e.g. 2026-02-24T12:00:00Z")
    p.add_argument("--hours", type=float, required=True, help="length of the plan in hours")
    p.add_argument("--out", type=Path, required=True, help="plan file (.parquet or .csv)")
    p.add_argument("--mask-deg", type=float, default=None,
                   help="elevation mask for every site (default: each site's own)")
    p.add_argument("--step-s", type=float, default=60.0, help="coarse search step (s)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--cache-dir", type=Path, default=None, help="reuse plans cached here")
    p.add_argument("--figures", type=Path, default=None,
                   help="also draw a contact Gantt, ground tracks and elevation here")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_contacts)

    tle = sub.add_parser("tle", help="element sets: fetch a CelesTrak group")
    tsub = tle.add_subparsers(dest="tle_command", required=True, metavar="ACTION")
    f = tsub.add_parser("fetch", help="download a current CelesTrak group (needs internet)")
    f.add_argument("group", help="CelesTrak GROUP, e.g. starlink, oneweb, iridium-NEXT, stations")
    f.add_argument("--out", type=Path, required=True, help="file to write")
    f.add_argument("--format", choices=("tle", "json", "csv"), default="tle")
    f.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    f.set_defaults(func=cmd_tle_fetch)
