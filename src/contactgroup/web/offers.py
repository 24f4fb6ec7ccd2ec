"""A desk's offers in the browser: the list (as the API shows it to the reader), entering one, its page with its
history and the moves it may take, amending it (a form read from an older version is refused and shows the current
one), and uploading a spreadsheet of offers (every bad row shown against its row and column, nothing written until
the file is clean)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.command import AMENDABLE_OFFER
from contactgroup.domain.errors import ContactGroupError, MissingRate, NotFound, ValidationFailed
from contactgroup.domain.model import ConsentStatus, Offer, OfferStatus, Source, User, ValuationBasis, Visibility
from contactgroup.domain.state import State
from contactgroup.domain.text import MAX_IMPORT_BYTES
from contactgroup.domain.workflow import OfferAction, parse_action
from contactgroup.io.offers import HELP, TEMPLATE
from contactgroup.reports.valuation import Valuer
from contactgroup.services import access, offer_import, queries
from contactgroup.services import coordination as svc
from contactgroup.web.forms import Fields, Posted, act, said, state, unchanged, version
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

ENTRY_STATUSES = tuple(svc.ENTRY_STEPS)


# --- the list ------------------------------------------------------------------------------------------------------

COLUMNS = (
    Column("id", "Offer", link="/offers/{id}"),
    Column("member", "Member"),
    Column("item", "Item"),
    Column("quantity", "Quantity", numeric=True),
    Column("unit_value", "Unit value (EUR)", numeric=True),
    Column("visibility", "Visibility"),
    Column("status", "Status"),
    Column("available_from", "Available from"),
    Column("depot", "Depot"),
)


def unit_value(valuer: Valuer, st: State, offer: Offer) -> Decimal | None:
    """One unit's value in EUR: the declared value over the quantity, else the catalogue's (None if neither, or
    if no rate converts the declared value)."""
    try:
        total = valuer.offer_value_eur(offer, st.items)
    except MissingRate:
        return None
    return None if total is None else total / offer.quantity


def _word(status: OfferStatus) -> str:
    """A status as a word to read (and to filter by): `in delivery`."""
    return status.value.replace("_", " ")


class OfferRow(Mapping[str, Any]):
    """A row of the offers list over one offer, each cell read when the list asks for it: of thousands of offers
    the list sorts and filters on one or two cells and shows fifty rows, so no row is built whole in advance."""

    KEYS = ("id", "member", "item", "quantity", "unit_value", "visibility", "status", "available_from", "depot",
            "ref", "end_use")
    __slots__ = ("cells", "offer")

    def __init__(self, offer: Offer) -> None:
        self.offer = offer
        self.cells: dict[str, Any] = {"unit_value": None}  # worked out later (a conversion); `item_class` if chosen

    def __getitem__(self, key: str) -> Any:
        if key in self.cells:
            return self.cells[key]
        if key not in self.KEYS:
            raise KeyError(key)
        value = getattr(self.offer, key)
        return _word(value) if isinstance(value, OfferStatus) else getattr(value, "value", value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)


def _valued(valuer: Valuer, st: State, rows: Sequence[Any]) -> None:
    for row in rows:
        row.cells["unit_value"] = unit_value(valuer, st, row.offer)


def _in_class(st: State, rows: list[OfferRow], chosen: str) -> list[OfferRow]:
    """The rows whose item is in class `chosen` (an item may be in several), marked so the list's filter keeps
    them."""
    items = set(st.item_classes[chosen].items)
    kept = [row for row in rows if row.offer.item in items]
    for row in kept:
        row.cells["item_class"] = chosen
    return kept


@router.get("/offers", response_class=HTMLResponse)
def offers_list(request: Request, caller: Viewer) -> HTMLResponse:
    st = state(request)
    rows = [OfferRow(o) for o in queries.offers(st, caller.user)]
    chosen = request.query_params.get("item_class", "")
    if chosen in st.item_classes:
        rows = _in_class(st, rows, chosen)
    filters = (
        Filter("status", "Status", [(_word(s), _word(s)) for s in OfferStatus]),
        Filter("member", "Member", [(m, m) for m in sorted({row.offer.member for row in rows})]),
        Filter("item_class", "Item class", [(c.code, f"{c.code}: {c.name}") for c in queries.item_classes(st)]),
    )
    # A unit value may take a currency conversion: worked out for the rows shown, unless the list is sorted by it.
    by_value = request.query_params.get("sort") == "unit_value"
    if by_value:
        _valued(Valuer.of(st), st, rows)
    shown = listing(request, rows, COLUMNS, search=("id", "member", "item", "depot", "ref", "end_use"),
                    filters=filters)
    if not by_value:
        _valued(Valuer.of(st), st, shown.rows)
    return render(request, "offers_list.html", title="Offers", listing=shown,
                  may_enter=bool(_members_for(st, caller.user)))


# --- entering an offer --------------------------------------------------------------------------------------------

def _members_for(st: State, who: User) -> list[str]:
    """The members (and funds) `who` may enter offers for."""
    codes = [m.code for m in queries.members(st) if m.active] + sorted(st.funds)
    return [code for code in codes if _may_enter(st, who, code)]


def _may_enter(st: State, who: User, member: str) -> bool:
    """Whether the policy lets `who` enter (and amend) offers of `member`."""
    try:
        access.authorize(st, who, "offer:enter", owner=member)
    except ContactGroupError:
        return False
    return True


def _choices(st: State) -> dict[str, Any]:
    return {"items": queries.items(st), "sources": list(Source), "visibilities": list(Visibility),
            "bases": list(ValuationBasis), "statuses": ENTRY_STATUSES}


def _new_page(request: Request, caller: Viewer | Changer, form: dict[str, str], message: str = "",
              status: int = 200) -> HTMLResponse:
    st = state(request)
    members = _members_for(st, caller.user)
    return render(request, "offers_new.html", status, title="Enter an offer", form=form, message=message,
                  members=members, **_choices(st))


@router.get("/offers/new", response_class=HTMLResponse)
def offer_form(request: Request, caller: Viewer) -> HTMLResponse:
    party = caller.user.party
    return _new_page(request, caller, {"member": party, "depot": party, "status": OfferStatus.OFFERED.value})


def _entered(fields: Fields) -> tuple[Offer, OfferStatus, date | None]:
    """The offer a form describes, its entry status and commitment date; every bad field in `fields.problems`."""
    offer = Offer(id="", member=fields.text("member"), item=fields.text("item"),
                  quantity=fields.units("quantity") or 0, available_from=fields.day("available_from") or date.min,
                  depot=fields.text("depot").upper(), source=fields.choice("source", Source, Source.STOCKS),
                  status=OfferStatus.DRAFT, visibility=fields.choice("visibility", Visibility, Visibility.MEMBER),
                  value=fields.money("value"), currency=fields.text("currency").upper() or None,
                  basis=fields.choice("basis", ValuationBasis), consent_from=fields.text("consent_from") or None,
                  end_use=fields.form.get("end_use", ""))
    status = fields.choice("status", OfferStatus, OfferStatus.OFFERED)
    return offer, status, fields.day("committed_on", required=False)


@router.post("/offers/new", response_model=None)
def enter_offer(request: Request, caller: Changer, form: Posted) -> Response:
    fields = Fields(form)
    offer, status, committed_on = _entered(fields)
    try:
        if fields.problems:
            raise ValidationFailed(fields.problems)
        done = act(request, caller, lambda uow, who: svc.enter_offer(uow, who, offer, status=status,
                                                                      committed_on=committed_on))
    except ContactGroupError as exc:
        return _new_page(request, caller, form, said(exc), status_of(exc))
    return redirect(request, f"/offers/{done.id}")


# --- one offer -----------------------------------------------------------------------------------------------------

def _verbs(st: State, who: User, offer_id: str) -> list[str]:
    """The moves `who` may now make to the offer (make, commit, withdraw), as the lifecycle table allows them."""
    return [verb.value for verb in OfferAction if offer_id in queries.movable(st, who, "offer", verb)]


def _may_ask_consent(st: State, who: User, offer: Offer) -> bool:
    """Whether `who` may ask for the offer's re-export consent now: it needs one, none is asked or granted (a refused
    one may be asked again), and `who` enters the offer's member's offers or coordinates."""
    if offer.consent_from is None or any(c.offer == offer.id and c.status is not ConsentStatus.REFUSED
                                         for c in st.consents.values()):
        return False
    try:
        access.authorize(st, who, "consent:request", owner=offer.member)
    except ContactGroupError:
        return False
    return True


def _offer_page(request: Request, caller: Viewer | Changer, offer_id: str, *, message: str = "",
                status: int = 200) -> HTMLResponse:
    st = state(request)
    offer = queries.offer(st, caller.user, offer_id)
    history = queries.history_of(request.app.state.store.db, caller.user.name, queries.HistoryKind.OFFER, offer_id)
    allocations = [a for a in st.allocations_of_offer(offer_id) if access.can_see_allocation(st, caller.user, a)]
    item = st.items.get(offer.item)
    may_amend = offer.status in AMENDABLE_OFFER and _may_enter(st, caller.user, offer.member)
    return render(request, "offers_detail.html", status, title=f"Offer {offer.id}", offer=offer,
                  item=item, unit_value=unit_value(Valuer.of(st), st, offer), history=history,
                  allocations=allocations, verbs=_verbs(st, caller.user, offer_id), may_amend=may_amend,
                  may_ask_consent=_may_ask_consent(st, caller.user, offer),
                  version=version(offer), message=message, today=request.app.state.clock.now().date())


def _ident(offer_id: str) -> str:
    return offer_id[:64]


@router.get("/offers/upload", response_class=HTMLResponse)
def upload_form(request: Request, caller: Viewer) -> HTMLResponse:
    return _upload_page(request)


@router.get("/offers/{offer_id}", response_class=HTMLResponse)
def offer_page(request: Request, caller: Viewer, offer_id: str) -> HTMLResponse:
    return _offer_page(request, caller, _ident(offer_id))


@router.post("/offers/{offer_id}/actions/{verb}", response_model=None)
def move_offer(request: Request, caller: Changer, offer_id: str, verb: str, form: Posted) -> Response:
    """make, commit (on a date, default today) or withdraw (with a reason), from the version the page showed."""
    ident = _ident(offer_id)
    fields = Fields(form)
    on = fields.day("on", required=False)
    reason = form.get("reason", "")

    def move(uow: Any, who: svc.Caller) -> Offer:
        unchanged("offer", ident, fields.text("version"), svc.visible_offer(uow, who, ident))
        if fields.problems:
            raise ValidationFailed(fields.problems)
        return svc.move_offer(uow, who, ident, parse_action(OfferAction, verb[:20]), on=on, reason=reason)

    try:
        act(request, caller, move)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _offer_page(request, caller, ident, message=said(exc), status=status_of(exc))
    return redirect(request, f"/offers/{ident}")


@router.post("/offers/{offer_id}/consent", response_model=None)
def ask_consent(request: Request, caller: Changer, offer_id: str, form: Posted) -> Response:
    """Ask the member the offer names for its re-export consent (the allocation holds the offer back until it is
    granted); then the consent's page."""
    ident = _ident(offer_id)
    try:
        asked = act(request, caller, lambda uow, who: svc.request_consent(uow, who, ident))
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _offer_page(request, caller, ident, message=said(exc), status=status_of(exc))
    return redirect(request, f"/consents/{asked.id}")


# --- amending ------------------------------------------------------------------------------------------------------

def _terms(offer: Offer) -> dict[str, str]:
    """The amendable terms as the form shows them."""
    return {"quantity": str(offer.quantity), "available_from": offer.available_from.isoformat(),
            "depot": offer.depot, "value": "" if offer.value is None else str(offer.value),
            "currency": offer.currency or "", "basis": offer.basis.value if offer.basis else "",
            "visibility": offer.visibility.value, "end_use": offer.end_use}


def _amend_page(request: Request, caller: Viewer | Changer, offer_id: str, form: dict[str, str] | None = None,
                message: str = "", status: int = 200) -> HTMLResponse:
    st = state(request)
    offer = queries.offer(st, caller.user, offer_id)
    shown = form if form is not None else _terms(offer)
    return render(request, "offers_amend.html", status, title=f"Amend offer {offer.id}", offer=offer, form=shown,
                  version=shown.get("version") or version(offer), message=message, **_choices(st))


@router.get("/offers/{offer_id}/amend", response_class=HTMLResponse)
def amend_form(request: Request, caller: Viewer, offer_id: str) -> HTMLResponse:
    return _amend_page(request, caller, _ident(offer_id))


@router.post("/offers/{offer_id}/amend", response_model=None)
def amend_offer(request: Request, caller: Changer, offer_id: str, form: Posted) -> Response:
    ident = _ident(offer_id)
    fields = Fields(form)
    terms = {"quantity": fields.units("quantity"), "available_from": fields.day("available_from"),
             "depot": fields.text("depot").upper() or None, "value": fields.money("value"),
             "currency": fields.text("currency").upper() or None, "basis": fields.choice("basis", ValuationBasis),
             "visibility": fields.choice("visibility", Visibility), "end_use": form.get("end_use", "")}

    def amend(uow: Any, who: svc.Caller) -> Offer:
        unchanged("offer", ident, fields.text("version"), svc.visible_offer(uow, who, ident))
        if fields.problems:
            raise ValidationFailed(fields.problems)
        return svc.amend_offer(uow, who, ident, **terms)

    try:
        act(request, caller, amend)
    except NotFound:
        raise
    except ContactGroupError as exc:
        if exc.code == "stale":  # the current state, with a new version to amend from
            return _amend_page(request, caller, ident, message=said(exc), status=status_of(exc))
        return _amend_page(request, caller, ident, form, said(exc), status_of(exc))
    return redirect(request, f"/offers/{ident}")


# --- a spreadsheet of offers ---------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WHERE = re.compile(r": row (\d+)(?:, column (.+))?$")


def _file_name(upload: UploadFile) -> str:
    """The file's own name, kept to safe characters (messages name it; its extension tells CSV from XLSX)."""
    name = _UNSAFE.sub("_", Path(upload.filename or "offers.csv").name).strip("._") or "offers.csv"
    return name[-100:]


def _problem_rows(exc: ValidationFailed, folder: str) -> list[tuple[int | None, str, str]]:
    """Each problem as (row, column, message), by row: the file's own row numbers (header = 1); the whole file's
    problems first, without the server's folder the upload was kept in."""
    rows: list[tuple[int | None, str, str]] = []
    for p in exc.problems:
        where = p.where.replace(folder + "/", "")
        found = _WHERE.search(where)
        if found:
            rows.append((int(found.group(1)), found.group(2) or "", p.message))
        else:
            rows.append((None, "", f"{where}: {p.message}" if where else p.message))
    return sorted(rows, key=lambda r: (r[0] or 0, r[1]))


def _upload_page(request: Request, *, message: str = "", problems: list[Any] | None = None,
                 summary: offer_import.ImportSummary | None = None, name: str = "", status: int = 200) -> HTMLResponse:
    return render(request, "offers_upload.html", status, title="Upload offers", message=message,
                  problems=problems or [], summary=summary, name=name, limit=MAX_IMPORT_BYTES,
                  columns=[(c, HELP[c]) for c in TEMPLATE])


@router.post("/offers/upload", response_model=None)
def upload(request: Request, caller: Changer, file: Annotated[UploadFile, File()]) -> Response:
    """The file imported by the same service as `contactgroup import offers`: all its rows, or none."""
    name = _file_name(file)
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        return _upload_page(request, name=name, status=413,
                            message=f"{name} is larger than {MAX_IMPORT_BYTES:,} bytes: split it into several files; "
                                    "nothing was written")
    with tempfile.TemporaryDirectory(prefix="contactgroup-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            summary = act(request, caller, lambda uow, who: offer_import.import_offers(uow, who, path))
        except ValidationFailed as exc:
            bad = _problem_rows(exc, folder)
            return _upload_page(request, name=name, problems=bad, status=400,
                                message=f"{name}: {len(bad):,} problem{'s' if len(bad) != 1 else ''}; nothing was "
                                        "written. Correct the file and upload it again.")
        except ContactGroupError as exc:
            return _upload_page(request, name=name, message=said(exc).replace(folder + "/", ""),
                                status=status_of(exc))
    return _upload_page(request, name=name, summary=summary, status=201)
