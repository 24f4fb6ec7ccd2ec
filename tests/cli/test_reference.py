"""docs/cli.md is what the commands say about themselves: a new or changed command without it fails here."""

from __future__ import annotations

from pathlib import Path

from contactgroup.cli.reference import markdown

DOC = Path(__file__).parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m contactgroup.cli.reference > docs/cli.md`")


def test_every_command_has_a_description() -> None:
    sections = markdown().split("\n## ")[1:]
    assert len(sections) > 60
    for section in sections:
        title, _, body = section.partition("\n\n")
        assert body.strip() and not body.startswith("- "), f"{title} has no description"
