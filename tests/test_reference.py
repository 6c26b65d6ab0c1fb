"""The committed scenario reference must match the schema."""

from __future__ import annotations

from pathlib import Path

from simfl.scenario.reference import scenario_reference_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario_reference.md"


def test_committed_reference_is_current() -> None:
    assert DOC.read_text() == scenario_reference_markdown(), (
        "docs/scenario_reference.md is stale: run "
        "`python -m simfl.scenario.reference > docs/scenario_reference.md`")


def test_reference_lists_every_section_and_units() -> None:
    text = scenario_reference_markdown()
    for heading in ("`data` (DataConfig)", "`algorithm[name=fedmeld]` (FedMeldConfig)",
                    "`space.constellation.walker` (WalkerConfig)", "`stop` (StopConfig)"):
        assert f"### {heading}" in text
    assert "| `network.device_cloud.up_rate_bps` | rate (with units) |" in text
    assert "| `name` | text | required |" in text
