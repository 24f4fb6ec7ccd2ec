"""Transit times, witnesses and quorum rules recorded the old way (`SettingChanged` with a prefixed name) replay
into the same state as their own events: every log written before keeps its meaning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.event import Event, replay, upcast
from contactgroup.domain.governance import rule_for
from contactgroup.domain.model import WITNESSES, ProposalKind, QuorumRule, TransitTime, Witness

AT = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _event(type_: str, data: dict[str, Any]) -> Event:
    return Event(type_, data, "admin", "IDCC", "IDCC", AT)


def _setting(name: str, value: str) -> Event:
    return _event("SettingChanged", {"name": name, "value": value})


def test_an_old_transit_setting_is_a_transit_time_and_no_setting() -> None:
    state = replay([_setting("transit:DEU:UKR-West", "4"), _setting("transit:DEU:UKR-West", "3")])
    assert state.transit_times == {("DEU", "UKR-West"): TransitTime("DEU", "UKR-West", 3)}
    assert state.tables["settings"] == {}


def test_a_removed_witness_keeps_the_key_it_had_and_counts_no_more() -> None:
    state = replay([_setting("witness:w.example", "w.example+01+KEY"), _setting("witness:w.example", "")])
    assert state.witnesses == {"w.example": Witness("w.example", "w.example+01+KEY", active=False)}


def test_old_quorum_settings_are_quorum_rules_that_governance_reads() -> None:
    state = replay([_setting("witness_quorum", "2"), _setting("quorum:admit_member", "1/2")])
    assert state.quorum_rules == {WITNESSES: QuorumRule(WITNESSES, "2"),
                                  "admit_member": QuorumRule("admit_member", "1/2")}
    assert rule_for(state, ProposalKind.ADMIT_MEMBER) == "1/2"
    assert rule_for(state, ProposalKind.HANDOVER) == "2/3"  # not set: the default


def test_the_log_key_and_other_settings_stay_settings() -> None:
    for event in (_setting("log_verifier_key", "o+01+K"), _setting("synthetic", "yes")):
        assert upcast(event) is event


_witness = st.sampled_from(["a.example", "b.example"])
_change = st.one_of(
    st.tuples(st.just("transit"), st.sampled_from(["DEU", "POL"]), st.sampled_from(["UKR", "UKR-West"]),
              st.integers(0, 3650)),
    st.tuples(st.just("witness"), _witness, st.sampled_from(["K1", "K2"])),
    st.tuples(st.just("remove"), _witness),
    st.tuples(st.just("quorum"), st.sampled_from([WITNESSES, "handover", "admit_member"]),
              st.sampled_from(["1", "2", "2/3", "all"])),
)


def _old(change: tuple[Any, ...]) -> Event:
    kind, *args = change
    if kind == "transit":
        return _setting(f"transit:{args[0]}:{args[1]}", str(args[2]))
    if kind == "witness":
        return _setting(f"witness:{args[0]}", args[1])
    if kind == "remove":
        return _setting(f"witness:{args[0]}", "")
    name = "witness_quorum" if args[0] == WITNESSES else f"quorum:{args[0]}"
    return _setting(name, args[1])


def _new(change: tuple[Any, ...]) -> Event:
    kind, *args = change
    if kind == "transit":
        return _event("TransitTimeSet", {"origin": args[0], "destination": args[1], "days": args[2]})
    if kind == "witness":
        return _event("WitnessAdded", {"name": args[0], "key": args[1]})
    if kind == "remove":
        return _event("WitnessRemoved", {"name": args[0]})
    return _event("QuorumRuleSet", {"decision": args[0], "rule": args[1]})


def _legal(changes: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Only removals of a witness named at that point, as the services allow."""
    named: set[str] = set()
    kept = []
    for c in changes:
        if c[0] == "remove" and c[1] not in named:
            continue
        named = named - {c[1]} if c[0] == "remove" else named | ({c[1]} if c[0] == "witness" else set())
        kept.append(c)
    return kept


@given(st.lists(_change, max_size=12).map(_legal))
def test_an_old_log_and_a_new_one_saying_the_same_give_the_same_state(changes: list[tuple[Any, ...]]) -> None:
    assert replay(map(_old, changes)).tables == replay(map(_new, changes)).tables
