"""Names a governance proposal would record follow the same rules as names entered directly: a proposal's payload
is a leaf of the log as soon as it is made."""

from __future__ import annotations

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import ProposalKind
from tests.domain.test_governance import HANDOVER, propose, with_keys


@pytest.mark.parametrize(("name", "says"), [("N" * 201, "at most 200"), ("NSATU\u202e", r"U\+202E"),
                                             ("NSATU\n", r"U\+000A")])
def test_a_handover_names_the_new_authority_within_the_rules(name: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        propose(with_keys(), ProposalKind.HANDOVER, {**HANDOVER, "to": name})


def test_a_new_coalition_by_proposal_has_a_name_within_the_rules() -> None:
    with pytest.raises(ValidationFailed, match="name: is 201 characters long"):
        propose(with_keys(), ProposalKind.CHANGE_LEAD, {"area": "drones", "name": "D" * 201, "leads": ["POL"]})


def test_a_member_admitted_by_proposal_has_a_name_within_the_rules() -> None:
    with pytest.raises(ValidationFailed, match="U\\+200B"):
        propose(with_keys(), ProposalKind.ADMIT_MEMBER, {"code": "NEWORG", "name": "New\u200borg",
                                                            "kind": "organisation", "currency": "EUR",
                                                            "nato": False, "eu": False})
