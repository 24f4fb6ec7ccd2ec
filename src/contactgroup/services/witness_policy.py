"""The witnesses a log names, with their keys, and how many must cosign (`WitnessAdded`, `WitnessRemoved`,
`QuorumRuleSet`): the policy a verifier of this log derives from the record (`LogInfo`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contactgroup.domain.errors import Conflict, NotFound, ValidationFailed
from contactgroup.domain.model import WITNESSES, Witness
from contactgroup.domain.state import State
from contactgroup.ledger.cosignature import CosignerKey, parse_cosigner_key
from contactgroup.ledger.note import VerifierKey, parse_verifier_key
from contactgroup.ledger.policy import Policy, WitnessPolicy, parse_witness_vkey, published_policy
from contactgroup.services import coordination as svc
from contactgroup.services.log_keys import LOG_KEY_SETTING
from contactgroup.storage import log_tables
from contactgroup.storage.database import Connection, UnitOfWork

WITNESS_ACTION = "coordination:found"  # who may name witnesses and their quorum: the coordinating authority


def parse_witness_key(text: str) -> CosignerKey:
    """A witness's key: its cosigner form (type 0x04) or its Ed25519 note verifier form (0x01).

    The type byte decides which form is meant, so that what is wrong with a damaged key (its key id, say) is
    reported for that form."""
    return parse_witness_vkey(text)


def add_witness(uow: UnitOfWork, caller: svc.Caller, name: str, key_text: str,
                replace: bool = False) -> tuple[CosignerKey, CosignerKey | None]:
    """Name a witness (recorded in the log). Returns its key and the key it had before, if any (the same key:
    nothing was recorded).

    A witness's key changes only when asked explicitly (`replace`): a key silently replaced would discount every
    cosignature the witness gives with the key its operator still uses. Past cosignatures stay checked against
    the key registered when they were received."""
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)  # first: whoever may not name witnesses learns nothing more
    key = parse_witness_key(key_text)
    if key.name != name:
        raise ValidationFailed(f"the key is named {key.name!r}, not {name!r}", where="witness")
    current = active_witnesses(uow.state)
    previous = current.get(name)
    if previous is not None and previous.text == key.text:
        return key, previous  # already registered with this very key: nothing to record
    if previous is not None and not replace:
        raise Conflict(f"{name} is already a witness with the key {previous.text}", code="witness-key-change",
                       key=key.text)
    WitnessPolicy(tuple({**current, name: key}.values()), 1)  # refuses two names for one public key
    svc.record_events(uow, [ctx.event("WitnessAdded", {"name": name, "key": key.text})])
    return key, previous


def remove_witness(uow: UnitOfWork, caller: svc.Caller, name: str) -> CosignerKey:
    """Take a witness out of the published policy (recorded in the log); its past cosignatures stay valid."""
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)
    previous = active_witnesses(uow.state).get(name)
    if previous is None:
        raise NotFound(f"{name} is not a witness of this log")
    svc.record_events(uow, [ctx.event("WitnessRemoved", {"name": name})])
    return previous


def set_quorum(uow: UnitOfWork, caller: svc.Caller, quorum: int) -> WitnessPolicy:
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)
    policy = WitnessPolicy(tuple(active_witnesses(uow.state).values()), quorum)
    svc.record_events(uow, [ctx.event("QuorumRuleSet", {"decision": WITNESSES, "rule": str(quorum)})])
    return policy


def active_witnesses(state: State) -> dict[str, CosignerKey]:
    """The witnesses the log names now, by name (in name order), with their keys."""
    return {name: parse_cosigner_key(w.key) for name, w in sorted(state.witnesses.items()) if w.active}


@dataclass(frozen=True, slots=True)
class LogInfo:
    """What a verifier needs to know about the log: origin, verifier key and witness policy."""

    origin: str
    key: VerifierKey | None
    witnesses: tuple[tuple[str, CosignerKey], ...]
    quorum: int

    @property
    def effective_quorum(self) -> int:
        """The cosignatures that make a checkpoint count now: the rule, capped at the witnesses there are."""
        return min(self.quorum, len(self.witnesses))

    @property
    def policy(self) -> WitnessPolicy | None:
        if not self.witnesses:
            return None
        return WitnessPolicy(tuple(k for _, k in self.witnesses), self.effective_quorum)

    @property
    def published_policy(self) -> Policy:
        """The coordination's policy in C2SP tlog-policy form: a convenience for members, who verify with
        their own."""
        return published_policy(self.key, self.witnesses, self.quorum)

    def require_key(self) -> VerifierKey:
        if self.key is None:
            raise NotFound("the log has no verifier key yet", code="no-log-key")
        return self.key


def _log_info(settings: dict[str, str], witnesses: Sequence[Witness], quorum_rule: str) -> LogInfo:
    key_text = settings.get(LOG_KEY_SETTING)
    active = tuple((w.name, parse_cosigner_key(w.key)) for w in sorted(witnesses, key=lambda w: w.name) if w.active)
    quorum = int(quorum_rule) if quorum_rule.isdigit() else 1  # unset: one witness's cosignature suffices
    return LogInfo(settings.get("origin", ""), parse_verifier_key(key_text) if key_text else None, active, quorum)


def log_info_of_state(state: State) -> LogInfo:
    rule = state.quorum_rules.get(WITNESSES)
    return _log_info({n: s.value for n, s in state.tables["settings"].items()}, list(state.witnesses.values()),
                     rule.rule if rule else "")


def log_info(conn: Connection) -> LogInfo:
    rule = next((r.rule for r in log_tables.entities(conn, "quorum_rules") if r.decision == WITNESSES), "")
    return _log_info(log_tables.settings(conn), log_tables.entities(conn, "witnesses"), rule)
