"""Problem and plan as JSON: the documented example, round trips, and a finding per bad field."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contactgroup.allocation import plan_to_dict, problem_from_dict, problem_to_dict, solve
from contactgroup.domain.errors import ValidationFailed
from tests.allocation.allocation_reference import medium_problem

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats"
EXAMPLE = DOCS / "allocation-example.json"


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def findings(data: object) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        problem_from_dict(data)
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


class TestDocumentedExample:
    def test_the_plan_in_the_docs_is_what_the_optimiser_writes(self) -> None:
        text = (DOCS / "allocation.md").read_text()
        documented = json.loads(re.findall(r"```json\n(.*?)\n```", text, re.S)[-1])
        assert plan_to_dict(solve(problem_from_dict(example()))) == documented

    def test_round_trips_through_the_dict_form(self) -> None:
        problem = problem_from_dict(example())
        assert problem_from_dict(problem_to_dict(problem)) == problem

    def test_route_days_round_trip_and_a_file_without_them_is_written_as_before(self) -> None:
        problem = problem_from_dict(example())
        assert "route_days" not in problem_to_dict(problem)
        routed = replace(problem, route_days={(problem.offers[0].id, "UKR"): 9})
        assert problem_to_dict(routed)["route_days"] == {problem.offers[0].id: {"UKR": 9}}
        assert problem_from_dict(problem_to_dict(routed)) == routed

    def test_medium_problems_round_trip_too(self) -> None:
        problem = medium_problem(3)
        again = problem_from_dict(json.loads(json.dumps(problem_to_dict(problem))))
        assert plan_to_dict(solve(again)) == plan_to_dict(solve(problem))


def mutated(path: str, value: object) -> dict[str, Any]:
    """The example with one field (dotted path, list indices as numbers) set to `value`; DELETE removes it."""
    data = copy.deepcopy(example())
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


DELETE = object()


class TestBadInput:
    @pytest.mark.parametrize(
        ("path", "value", "expected"),
        [
            ("offers.3.quantity", -5, "offers[3].quantity: must be a non-negative integer, got -5"),
            ("offers.0.quantity", 2.5, "offers[0].quantity: must be a non-negative integer, got 2.5"),
            ("requirements.1.quantity", "10", "requirements[1].quantity: must be a non-negative integer, got '10'"),
            ("requirements.0.priority", 0, "requirements[0].priority: must be an integer >= 1, got 0"),
            ("requirements.0.item_class", "artillery-155mm", "requirements[0].item_class: unknown item class"),
            ("requirements.2.needed_by", "2025-02-30", "requirements[2].needed_by: must be a date YYYY-MM-DD"),
            ("offers.1.available_from", "1/3/2025", "offers[1].available_from: must be a date YYYY-MM-DD"),
            ("offers.1.id", "O-DEU-1", "offers[1].id: duplicate id 'O-DEU-1' (also offers[0])"),
            ("requirements.1.id", "R-001", "requirements[1].id: duplicate id 'R-001'"),
            ("requirements.0.destination", DELETE, "requirements[0].destination: missing"),
            ("offers.0.colour", "green", "offers[0].colour: unknown field"),
            ("offers.0.consent_from", "", "offers[0].consent_from: must be a non-empty string"),
            ("pinned.0.offer", "O-XXX", "pinned[0].offer: unknown offer 'O-XXX'"),
            ("pinned.0.requirement", "R-999", "pinned[0].requirement: unknown requirement 'R-999'"),
            ("pinned.0.quantity", 40, "pinned[0].quantity: pins of offer 'O-POL-1' total 40, more than its"),
            ("pinned.0.quantity", 0, "pinned[0].quantity: must be an integer >= 1, got 0"),
            ("pinned.0.requirement", "R-001", "pinned[0].offer: offer 'O-POL-1' (item 'GEN-100') is not compatible"),
            ("consents_granted.0", "O-XXX", "consents_granted: unknown offer 'O-XXX'"),
            ("transit_days.DEU.UKR", -1, "transit_days.DEU.UKR: must be a non-negative integer, got -1"),
            ("route_days", {"O-XXX": {"UKR": 3}}, "route_days.O-XXX.UKR: unknown offer 'O-XXX'"),
            ("route_days", {"O-DEU-1": {"UKR": -3}}, "route_days.O-DEU-1.UKR: must be a non-negative integer"),
            ("item_classes.demining-kit", "MDK-1", "item_classes.demining-kit: must be a list"),
            ("offers", {}, "offers: must be a list, got an object"),
            ("requirements", DELETE, "requirements: missing"),
        ],
    )
    def test_names_the_bad_field(self, path: str, value: object, expected: str) -> None:
        assert any(f.startswith(expected) for f in findings(mutated(path, value))), findings(mutated(path, value))

    def test_pins_exceeding_a_requirement(self) -> None:
        data = example()
        data["pinned"] = [
            {"offer": "O-DEU-1", "requirement": "R-002", "quantity": 1500},
            {"offer": "O-DEU-1", "requirement": "R-005", "quantity": 500},
            {"offer": "O-USA-1", "requirement": "R-005", "quantity": 1600},
        ]
        assert findings(data) == [
            "pinned[2].quantity: pins to requirement 'R-005' total 2100, more than its quantity 2000"
        ]

    def test_duplicate_pins(self) -> None:
        data = example()
        data["pinned"] = [data["pinned"][0], data["pinned"][0]]
        assert findings(data)[0].startswith("pinned[1]: duplicate pin of offer 'O-POL-1'")

    def test_reports_every_problem_at_once(self) -> None:
        data = mutated("offers.3.quantity", -5)
        data["requirements"][0]["needed_by"] = "soon"
        data["offers"][0]["origin"] = ""
        assert len(findings(data)) == 3

    def test_rejects_something_that_is_not_an_object(self) -> None:
        assert findings([1, 2]) == ["the problem must be a JSON object, got a list"]
