"""Every event type is in the catalogue: an undocumented event is a test failure, not a surprise."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactgroup.domain.event import HANDLERS

CATALOGUE = (Path(__file__).parents[2] / "docs" / "events.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("event_type", sorted(HANDLERS))
def test_event_type_is_documented(event_type: str) -> None:
    assert f"`{event_type}`" in CATALOGUE
