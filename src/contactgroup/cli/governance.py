"""`keys`, `governance` and `authority`: member keys, quorum decisions signed offline, who chairs."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    database,
    emit,
    fail,
    handles_errors,
    out,
    whole_number_in,
)
from contactgroup.domain import governance as gov
from contactgroup.domain.model import KeyStatus, Member, MemberKey, ProposalKind, ProposalStatus
from contactgroup.encoding.canonical import plain
from contactgroup.services import governance as svc
from contactgroup.services import queries
from contactgroup.services.coordination import Caller
from contactgroup.services.key_files import parse_key_argument
from contactgroup.storage.database import UnitOfWork

keys_app = typer.Typer(help="Members' Ed25519 keys: generate offline, register, revoke.", no_args_is_help=True)


@keys_app.command("generate")
@handles_errors
def keys_generate(
    name: Annotated[str, typer.Argument(help="Key name, e.g. DEU-2026 (no spaces or '+').")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Private key file; default NAME.key here.")] = None,
) -> None:
    """Write a new private key file (mode 0600) and print its verifier key to register."""
    path = out_file or Path(name.replace("/", "_") + ".key")  # a log origin holds slashes
    verifier = svc.generate_key_file(name, path)
    # A log origin (contactgroup.example/udcg) names a log key; a member key is named like DEU-2026.
    use = ("it will sign the log's checkpoints once a handover names it" if "/" in name or "." in name
           else "it signs for your member")
    sys.stderr.write(f"private key written to {path} (keep it offline; {use})\n")
    sys.stdout.write(verifier + "\n")


@keys_app.command("register")
@handles_errors
def keys_register(
    key: Annotated[str, typer.Argument(help="Verifier key <name>+<hex id>+<base64>, or @FILE.")],
    member: Annotated[str, typer.Option(help="The member the key signs for.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Register a verifier key for your member (desk officer of that member)."""
    verifier = parse_key_argument(key)
    k = seam.change(db, as_, lambda uow, who: svc.register_key(uow, who, member, verifier),
                    seam.Remote("POST", "/api/v1/member-keys", seam.typed(MemberKey),
                                json={"member": member, "key": verifier}))
    out.print(f"[green]✓[/] key {gov.key_label(k.key)} registered for {member}", highlight=False)


@keys_app.command("revoke")
@handles_errors
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The verifier key, or its <name>+<hex id>.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Revoke a key (desk officer of its member): approvals signed with it stop counting."""
    k = seam.change(db, as_, lambda uow, who: svc.revoke_key(uow, who, key),
                    seam.Remote("POST", "/api/v1/member-keys/revoke", seam.typed(MemberKey), json={"key": key}))
    out.print(f"[green]✓[/] key {gov.key_label(k.key)} of {k.member} revoked", highlight=False)


@keys_app.command("list")
@handles_errors
def keys_list(member: Annotated[str | None, typer.Option()] = None, db: DbOption = None,
              fmt: FormatOption = Format.TABLE) -> None:
    """List registered member keys."""
    registered = seam.fetch(db, lambda: queries.member_keys(database(db).state(), member=member),
                            seam.Remote("GET", "/api/v1/member-keys", seam.typed(list[MemberKey]),
                                        params=seam.given({"member": member})))
    rows = [{"member": k.member, "key": k.key, "status": k.status.value, "registered_at": k.registered_at,
             "revoked_at": k.revoked_at} for k in registered]
    if not rows and fmt is Format.TABLE:
        out.print(f"no member keys registered{f' for {member}' if member else ''}", highlight=False)
        return
    emit(rows, fmt, title="Member keys")


@keys_app.command("export")
@handles_errors
def keys_export(db: DbOption = None) -> None:
    """Print every active member's keys as `MEMBER KEY` lines, and a member without a key as `MEMBER` alone:
    the file a witness needs (`--member-keys`) to follow a handover of the log on the members' signatures alone.
    The witness's quorum is a share of every member listed, keys or not."""
    members = seam.open_listing(db, None, lambda state: list(state.members.values()),
                                seam.Remote("GET", "/api/v1/members", seam.typed(Member))).rows
    registered = seam.fetch(db, lambda: queries.member_keys(database(db).state()),
                            seam.Remote("GET", "/api/v1/member-keys", seam.typed(list[MemberKey])))
    sys.stdout.write("# contactgroup member keys: MEMBER KEY, or MEMBER alone for a member with no key\n")
    for code in sorted(m.code for m in members if m.active):
        keys = sorted(k.key for k in registered if k.member == code and k.status is KeyStatus.ACTIVE)
        for key in keys or [""]:
            sys.stdout.write(f"{code} {key}".rstrip() + "\n")


@dataclass(frozen=True, slots=True)
class Approved:
    """An approval handed in: the quorum as it was counted, the proposal's status, others that took effect too."""

    quorum: gov.Quorum
    status: ProposalStatus
    settled: list[str]


governance_app = typer.Typer(help="Proposals that take effect when a quorum of members has signed them.",
                             no_args_is_help=True)
propose_app = typer.Typer(help="Make a governance proposal.", no_args_is_help=True)
governance_app.add_typer(propose_app, name="propose")


def _propose(db: str | None, as_: str | None, kind: ProposalKind, payload: dict[str, Any], days: int) -> None:
    def here(uow: UnitOfWork, who: Caller) -> queries.ProposalView:
        made = svc.propose(uow, who, kind, payload, days)
        return queries.ProposalView(made, made.status.value, "", gov.quorum(uow.state, made))

    view = seam.change(db, as_, here, seam.Remote("POST", "/api/v1/proposals", seam.typed(queries.ProposalView),
                                                 json={"kind": kind.value, "payload": plain(payload), "days": days}))
    p, q = view.proposal, view.quorum
    out.print(f"[green]✓[/] proposal {p.id}: {escape(svc.payload_summary(p))}; takes effect with {q.needed} of "
              f"{len(q.eligible)} approvals (rule {_rule(q)}), open until {plain(p.expires_at)}", highlight=False)
    out.print(f"Members sign it offline: contactgroup governance show {p.id} --text > {p.id}.txt && "
              f"contactgroup governance sign {p.id}.txt --key MEMBER.key > {p.id}-MEMBER.note", highlight=False)
    out.print(p.id)


Days = Annotated[int, typer.Option("--days", parser=whole_number_in(1, gov.MAX_LIFETIME_DAYS),
                                    help=f"How long the proposal stays open, in days (1 to {gov.MAX_LIFETIME_DAYS}).")]


@propose_app.command("handover")
@handles_errors
def propose_handover(
    to: Annotated[str, typer.Option(help="The new coordinating authority, e.g. NSATU.")],
    users: Annotated[list[str], typer.Option("--user", help="A coordinator user of the new authority (repeat).")],
    log_key: Annotated[str, typer.Option(help="The new authority's log verifier key, or @FILE.")],
    days: Days = 30,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Propose handing the coordinating authority over (default quorum: two thirds of members)."""
    _propose(db, as_, ProposalKind.HANDOVER, {"to": to, "users": users, "log_key": parse_key_argument(log_key)},
             days)


@propose_app.command("admit-member")
@handles_errors
def propose_admit(
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    currency: Annotated[str, typer.Option()],
    organisation: Annotated[bool, typer.Option("--organisation")] = False,
    nato: Annotated[bool, typer.Option("--nato")] = False,
    eu: Annotated[bool, typer.Option("--eu")] = False,
    days: Days = 30,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Propose admitting a member."""
    kind = "organisation" if organisation else "nation"
    _propose(db, as_, ProposalKind.ADMIT_MEMBER, {"code": code, "name": name, "kind": kind,
                                                      "currency": currency, "nato": nato, "eu": eu}, days)


@propose_app.command("remove-member")
@handles_errors
def propose_remove(code: Annotated[str, typer.Option()], days: Days = 30, db: DbOption = None,
                   as_: AsOption = None) -> None:
    """Propose removing a member (its record stays; it can no longer act)."""
    _propose(db, as_, ProposalKind.REMOVE_MEMBER, {"code": code}, days)


@propose_app.command("change-lead")
@handles_errors
def propose_change_lead(
    area: Annotated[str, typer.Option()],
    leads: Annotated[list[str], typer.Option("--lead", help="A new lead member (repeat).")],
    name: Annotated[str | None, typer.Option(help="Forms a new coalition for AREA with this name.")] = None,
    days: Days = 30,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Propose new lead members for a capability coalition, or with --name form a new one (default quorum: all
    its current leads; two thirds of members if it has no active lead)."""
    payload: dict[str, Any] = {"area": area, "leads": leads}
    if name is not None:
        payload["name"] = name
    _propose(db, as_, ProposalKind.CHANGE_LEAD, payload, days)


@propose_app.command("change-quorum")
@handles_errors
def propose_change_quorum(
    kind: Annotated[ProposalKind, typer.Option(help="Which kind of proposal the rule governs.")],
    rule: Annotated[str, typer.Option(help="A fraction of members like 2/3, all, or leads.")],
    days: Days = 30,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Propose a new quorum rule for a kind of proposal."""
    _propose(db, as_, ProposalKind.CHANGE_QUORUM, {"kind": kind.value, "rule": rule}, days)


def _rule(q: gov.Quorum) -> str:
    return f"{q.rule} ({q.fallback})" if q.fallback else q.rule


def _get(pid: str, db: str | None) -> queries.ProposalView:
    return seam.fetch(db, lambda: queries.proposal(database(db).state(), pid, datetime.now(UTC)),
                      seam.Remote("GET", f"/api/v1/proposals/{quote(pid, safe='')}",
                                  seam.typed(queries.ProposalView)))


@governance_app.command("show")
@handles_errors
def governance_show(pid: str, text: Annotated[bool, typer.Option("--text", help="Print only the text to sign.")]
                    = False, db: DbOption = None) -> None:
    """Show a proposal, or with --text exactly the text members sign."""
    p = _get(pid, db).proposal
    if text:
        sys.stdout.write(p.text)
        return
    out.print(f"{p.id} ({p.kind.value}, {p.status.value}): {escape(svc.payload_summary(p))}\n"
              f"proposed by {p.proposer} at {plain(p.made_at)}; open until {plain(p.expires_at)}; "
              f"rule {p.rule}", highlight=False)
    out.print(p.text, highlight=False, markup=False)


@governance_app.command("sign")
@handles_errors
def governance_sign(
    proposal_file: Annotated[Path, typer.Argument(help="The proposal text (from `governance show ID --text`).")],
    key: Annotated[Path, typer.Option("--key", help="Your member's private key file.")],
) -> None:
    """Offline: sign a proposal's text with your member's key; prints the approval to hand in."""
    try:
        text = proposal_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{proposal_file}: cannot be read: {exc.strerror}", 2) from None
    sys.stdout.write(svc.sign_proposal(text, key))


@governance_app.command("approve")
@handles_errors
def governance_approve(
    pid: str,
    approval_file: Annotated[Path, typer.Argument(help="A signed approval (from `governance sign`).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Hand in a signed approval; the proposal takes effect the moment its quorum is met."""
    try:
        signed = approval_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{approval_file}: cannot be read: {exc.strerror}", 2) from None
    def here(uow: UnitOfWork, who: Caller) -> Approved:
        was_open = queries.open_proposals(uow.state)
        quorum = svc.approve(uow, who, pid, signed)
        return Approved(quorum, uow.state.proposals[pid].status, queries.took_effect_with(was_open, uow.state, pid))

    done = seam.change(db, as_, here, seam.Remote("POST", f"/api/v1/proposals/{quote(pid, safe='')}/approvals",
                                                  seam.typed(Approved), content=signed.encode("utf-8")))
    q, status, settled = done.quorum, done.status, done.settled
    word = "now EFFECTIVE" if status is ProposalStatus.EFFECTIVE else "still open"
    out.print(f"[green]✓[/] approval counted: {len(q.approved)} of {q.needed} needed; {pid} is {word}",
              highlight=False)
    for why in q.refused:
        out.print(f"[yellow]not counted:[/] {why}", highlight=False)
    for other in settled:
        out.print(f"{other} took effect too: its approvals now meet its quorum", highlight=False)


@governance_app.command("withdraw")
@handles_errors
def governance_withdraw(pid: str, db: DbOption = None, as_: AsOption = None) -> None:
    """Withdraw a proposal you made; later approvals count for nothing."""
    seam.change(db, as_, lambda uow, who: svc.withdraw(uow, who, pid).id,
                seam.Remote("POST", f"/api/v1/proposals/{quote(pid, safe='')}/withdraw",
                            lambda view: str(view["proposal"]["id"])))
    out.print(f"[green]✓[/] {pid} withdrawn")


@governance_app.command("status")
@handles_errors
def governance_status(pid: str, db: DbOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Who approved, whose approvals count for nothing and why, and what is missing."""
    view = _get(pid, db)
    p, q, status = view.proposal, view.quorum, view.status
    when = dict(view.approved_at)
    summary = {"proposal": p.id, "kind": p.kind.value, "status": status, "what": view.what,
               "rule": p.rule, "rule_applied": q.rule, "needed": q.needed, "eligible": len(q.eligible),
               "approved": list(q.approved), "void": [{"member": mem, "why": why} for mem, why in q.void],
               "missing": list(q.missing), "expires_at": p.expires_at}
    rows = [{"member": mem, "approval": "counts", "at": when.get(mem)} for mem in q.approved]
    rows += [{"member": mem, "approval": f"void: {why}", "at": when.get(mem)} for mem, why in q.void]
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps(plain(summary), indent=2) + "\n")
        return
    if fmt is Format.CSV:  # one row per member that approved, counted or not
        emit(rows, fmt, columns=("member", "approval", "at"))
        return
    state_word = status.replace("effective", "EFFECTIVE")
    when_word = {"open": f"open until {plain(p.expires_at)}", "expired": f"expired at {plain(p.expires_at)}"}
    out.print(f"{p.id} {state_word}: {escape(view.what)}\nrule {view.rule}: {len(q.approved)} of {q.needed} "
              f"needed approvals ({len(q.eligible)} members decide); "
              f"{when_word.get(status, status + ' (no longer open)')}", highlight=False)
    emit(rows, Format.TABLE, title="Approvals")
    if p.status is ProposalStatus.OPEN:
        out.print(f"missing ({len(q.missing)}): {', '.join(q.missing)}", highlight=False)


@governance_app.command("list")
@handles_errors
def governance_list(db: DbOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List proposals."""
    def here() -> list[dict[str, Any]]:
        return [{"id": v.proposal.id, "kind": v.proposal.kind.value, "status": v.status, "what": v.what,
                 "approved": len(v.quorum.approved), "needed": v.quorum.needed, "expires_at": v.proposal.expires_at}
                for v in queries.proposals(database(db).state(), datetime.now(UTC))]

    def served(docs: Any) -> list[dict[str, Any]]:
        return [{"id": d["id"], "kind": d["kind"], "status": d["status"], "what": d["what"],
                 "approved": len(d["approved"]), "needed": d["needed"],
                 "expires_at": datetime.fromisoformat(d["expires_at"])} for d in docs]

    rows = seam.fetch(db, here, seam.Remote("GET", "/proposals", served))
    if not rows and fmt is Format.TABLE:
        out.print("no proposals yet", highlight=False)
        return
    emit(rows, fmt, title="Proposals")


@handles_errors
def authority(db: DbOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Who chairs the coordination now and since when, with every earlier authority."""
    terms = seam.fetch(db, lambda: svc.terms(database(db).state()),
                       seam.Remote("GET", "/api/v1/authorities", seam.typed(list[svc.Term])))
    now = next((t for t in terms if t.until is None), None)
    if fmt is Format.TABLE and now is not None:
        out.print(f"{now.authority} chairs since {plain(now.since)}", highlight=False)
    emit([dataclasses.asdict(t) for t in terms], fmt, title="Authorities")
