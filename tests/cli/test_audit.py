"""Findings of the coordination-core audit: each refusal is one clear line, an exit code, and nothing written."""

from __future__ import annotations

import json

from tests.cli.test_commands import db, events, run

__all__ = ["db"]


def _open_requirement(db: str, quantity: str = "100") -> None:
    code, output = run(db, "requirement", "add", "--class", "155mm", "--quantity", quantity, "--priority", "1",
                       "--needed-by", "2024-09-01", "--destination", "UKR-West", "--submit", user="ukr")
    assert code == 0, output
    rid = output.split()[-1]
    for action in ("validate", "open"):
        assert run(db, "requirement", "move", rid, action, user="admin")[0] == 0


def _offer(db: str, *extra: str, quantity: str = "600") -> str:
    code, output = run(db, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", quantity,
                       "--available-from", "2024-08-01", "--depot", "DEU", *extra, user="deu")
    assert code == 0, output
    return output.split()[-1]


class TestUnknownArea:
    def test_add_class_refuses_an_unknown_area_and_offer_lists_still_work(self, db: str) -> None:
        before = events(db)
        code, output = run(db, "catalogue", "add-class", "c2", "--name", "x", "--area", "nosuch", "--item", "155-a",
                           user="admin")
        assert code == 3 and "no capability area 'nosuch'" in output
        assert events(db) == before
        assert run(db, "user", "add", "fra-lead", "--party", "FRA", "--role", "coalition_lead", user="admin")[0] == 0
        _offer(db, "--visibility", "coalition")
        code, output = run(db, "offer", "list", "--format", "json", user="fra-lead")
        assert code == 0 and [o["id"] for o in json.loads(output)] == ["O-00001"]
