"""Fetch a CelesTrak GP group (TLE, OMM JSON or OMM CSV), validate it, and save it with metadata.

CelesTrak asks users not to download the same group more than once every two hours: fetch once,
keep the file (and its ``.meta.json``), and load it with :func:`simfl.orbits.load_elements`.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from simfl import atomic
from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.omm import parse_omm_csv_text, parse_omm_json_text
from simfl.orbits.tle import parse_tle_text

__all__ = ["CELESTRAK_GP_URL", "COMMON_GROUPS", "fetch_celestrak_group", "meta_path_for"]

CELESTRAK_GP_URL = "https://celestrak.org/NORAD/elements/gp.php"
COMMON_GROUPS = ("stations", "active", "starlink", "oneweb", "iridium-NEXT", "planet", "gnss")
_PARSERS = {"tle": parse_tle_text, "json": parse_omm_json_text, "csv": parse_omm_csv_text}
_USER_AGENT = "simfl/0.1 (CelesTrak GP fetch)"


def fetch_celestrak_group(
    group: str,
    out_path: str | os.PathLike[str],
    *,
    fmt: Literal["tle", "json", "csv"] = "tle",
    base_url: str = CELESTRAK_GP_URL,
    timeout_s: float = 30,
) -> Path:
    """Download a CelesTrak group, check that it parses, write it atomically; return the path.

    Sends ``GET {base_url}?GROUP={group}&FORMAT={fmt}``. Beside the file it writes
    :func:`meta_path_for` ``(out_path)`` (``starlink.tle`` -> ``starlink.meta.json``) with
    ``source``, ``url``, ``group``, ``format``, ``fetched_at_utc`` and ``count``.

    Raises
    ------
    OrbitError
        For an unknown format, a network or HTTP error (naming the URL and the reason), or a
        reply that is not a valid element-set list (e.g. "No GP data found" for a wrong group).
    """
    if fmt not in _PARSERS:
        raise OrbitError(f"fmt is {fmt!r} (choose one of {', '.join(_PARSERS)})")
    query = urllib.parse.urlencode({"GROUP": group, "FORMAT": fmt})
    url = f"{base_url}?{query}"
    body = _download(url, timeout_s)
    text = body.decode("utf-8-sig", errors="replace")
    elements = _validate(text, url, group, fmt)
    out = atomic.write_bytes(out_path, body)
    fetched_at_utc = datetime.now(UTC).isoformat()
    atomic.write_json(
        meta_path_for(out),
        {
            "source": "CelesTrak",
            "url": url,
            "group": group,
            "format": fmt,
            "fetched_at_utc": fetched_at_utc,
            "count": len(elements),
        },
    )
    return out


def meta_path_for(path: str | os.PathLike[str]) -> Path:
    """Return the metadata path of a fetched file: its extension replaced by ``.meta.json``."""
    return Path(path).with_suffix(".meta.json")


def _download(url: str, timeout_s: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as err:
        err.close()
        hint = (
            "CelesTrak refuses repeated downloads of one group within two hours; reuse the file"
            if err.code in (403, 429)
            else "check the URL and try again later"
        )
        raise OrbitError(f"{url}: HTTP {err.code} {err.reason} ({hint})") from None
    except urllib.error.URLError as err:
        raise OrbitError(
            f"{url}: cannot connect: {err.reason} (check the network connection and base_url, "
            "or load a file you saved before with load_elements)"
        ) from None
    except TimeoutError:
        raise OrbitError(
            f"{url}: no reply within {timeout_s} s (the server is slow or unreachable; raise "
            "timeout_s or try again later)"
        ) from None
    except OSError as err:
        raise OrbitError(f"{url}: download failed: {err} (try again later)") from None


def _validate(text: str, url: str, group: str, fmt: str) -> list[ElementSet]:
    head = text.lstrip()[:500].lower()
    wrong_group = (
        f"the group name {group!r} is probably wrong (CelesTrak group names are case-sensitive,"
        f" e.g. {', '.join(COMMON_GROUPS)}; see https://celestrak.org/NORAD/elements/)"
    )
    if not head or "no gp data found" in head:
        raise OrbitError(f"{url}: the server found no element sets: {wrong_group}")
    if head.startswith("<"):
        raise OrbitError(
            f"{url}: the server replied with an HTML page instead of element sets: {wrong_group}"
        )
    try:
        return _PARSERS[fmt](text, url)
    except OrbitError as err:
        raise OrbitError(
            [
                f"{url}: the reply is not a valid {fmt} element-set list: {wrong_group}",
                *err.problems[:20],
            ]
        ) from None
