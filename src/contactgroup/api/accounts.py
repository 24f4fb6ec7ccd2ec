"""`/api/v1` accounts: enrolment, sign-in (a browser session or an API token), sign-out, tokens and the security
log. Secrets appear only in the one answer that hands them out; no error or log line ever holds one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from contactgroup.api.caller import CSRF_COOKIE, SESSION_COOKIE, Reader, Writer, source
from contactgroup.api.problem import problem_responses
from contactgroup.api.routing import Router
from contactgroup.domain.errors import PasskeysUnavailable, ValidationFailed
from contactgroup.services import accounts, tokens
from contactgroup.services.tokens import DEFAULT_DAYS, MAX_DAYS, Scope
from contactgroup.storage.accounts import TokenRow
from contactgroup.storage.store import StateStore

router = Router(prefix="/api/v1", tags=["accounts"])

_NAME = Field(min_length=1, max_length=200)
_PASSWORD = Field(min_length=1, max_length=accounts.PASSWORD_MAX)
_CODE = Field(min_length=1, max_length=100)
_TOTP = Field(default="", max_length=10, description="the authenticator app's current code")


def _store(request: Request) -> StateStore:
    store: StateStore = request.app.state.store
    return store


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


Store = Annotated[StateStore, Depends(_store)]
Now = Annotated[datetime, Depends(_now)]
Source = Annotated[str, Depends(source)]


class EnrolRequest(BaseModel):
    code: str = _CODE
    password: str = _PASSWORD


class EnrolAnswer(BaseModel):
    user: str
    done: bool = Field(description="false: confirm the second factor with a first code (`/enrol/confirm`)")
    totp_secret: str | None = None
    otpauth_uri: str | None = Field(default=None, description="for the authenticator app (as a QR code)")


class ConfirmRequest(BaseModel):
    code: str = _CODE
    totp: str = Field(min_length=1, max_length=10)


_ENROL_ERRORS = problem_responses(400, why={400: "bad body, or an enrolment code unknown, used or expired"})


@router.post("/enrol", response_model=EnrolAnswer, summary="Set one's password with an enrolment code",
             responses=_ENROL_ERRORS)
def enrol(body: EnrolRequest, store: Store, now: Now, src: Source) -> EnrolAnswer:
    factor = accounts.enrol(store.db, store.snapshot(), body.code, body.password, now=now, source=src)
    return EnrolAnswer(user=factor.user, done=factor.secret is None, totp_secret=factor.secret,
                       otpauth_uri=factor.uri)


@router.post("/enrol/confirm", response_model=EnrolAnswer, summary="Confirm the second factor with a first code",
             responses=_ENROL_ERRORS)
def confirm(body: ConfirmRequest, store: Store, now: Now, src: Source) -> EnrolAnswer:
    name = accounts.confirm_enrolment(store.db, store.snapshot(), body.code, body.totp, now=now, source=src)
    return EnrolAnswer(user=name, done=True)


class TokenRequest(BaseModel):
    scope: Scope = Scope.READ
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    label: str = Field(default="", max_length=200)


class SignInRequest(BaseModel):
    name: str = _NAME
    password: str = _PASSWORD
    totp: str = _TOTP
    token: TokenRequest | None = Field(default=None, description="ask for an API token (scripts, the CLI) "
                                                                 "instead of a browser session")
    passkey: dict[str, Any] | None = Field(default=None, description="a passkey's answer to a challenge from "
                                                                     "`/sign-in/passkey-options`, instead of `totp`")


class SignInAnswer(BaseModel):
    user: str
    kind: Literal["session", "token"]
    id: str = Field(description="the session's or the token's public id")
    expires_at: datetime
    token: str | None = Field(default=None, description="the API token, shown only now")
    csrf_token: str | None = Field(default=None, description="echo it in `X-CSRF-Token` with every change")


_SIGN_IN_ERRORS = problem_responses(400, 401, 409, 429, why={
    409: "a passkey's answer, on a server whose public origin is not configured",
    401: "the name, the password or the second factor's code is wrong (one answer for every reason)",
    429: "too many failed sign-ins for this account or from this address: `Retry-After` says how long to wait"})


@router.post("/sign-in", response_model=SignInAnswer, summary="Sign in: a browser session, or an API token",
             responses=_SIGN_IN_ERRORS)
def sign_in(body: SignInRequest, request: Request, response: Response, store: Store, now: Now,
            src: Source) -> SignInAnswer:
    state = store.snapshot()
    rp = request.app.state.relying_party
    if body.passkey is not None and rp is None:
        raise PasskeysUnavailable()
    user = accounts.sign_in(store.db, state, accounts.Attempt(body.name, body.password, body.totp, src, body.passkey),
                            now=now, rp=rp)
    if body.token is not None:
        issued = tokens.issue(store.db, state, user.name, now=now, scope=body.token.scope, days=body.token.days,
                              label=body.token.label, source=src)
        return SignInAnswer(user=user.name, kind="token", id=issued.row.id, expires_at=issued.row.expires_at,
                            token=issued.token)
    session = accounts.start_session(store.db, user, now=now, source=src,
                                     replacing=request.cookies.get(SESSION_COOKIE))
    for cookie in accounts.session_cookies(session, secure=request.url.scheme == "https"):
        response.set_cookie(**cookie)
    return SignInAnswer(user=user.name, kind="session", id=session.row.id,
                        expires_at=session.row.created_at + accounts.SESSION_LIFETIME, csrf_token=session.csrf)


@router.post("/sign-out", status_code=204, summary="End this session, or revoke this token",
             responses=problem_responses(401, 403))
def sign_out(caller: Reader, response: Response, store: Store, now: Now, src: Source) -> Response:
    accounts.sign_out(store.db, store.snapshot(), caller, now=now, source=src)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


class TokenInfo(BaseModel):
    id: str
    scope: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: TokenRow) -> TokenInfo:
        return cls(id=row.id, scope=row.scope, label=row.label, created_at=row.created_at,
                   expires_at=row.expires_at, revoked_at=row.revoked_at)


class IssuedToken(TokenInfo):
    token: str = Field(description="shown only now: the server keeps its hash")


@router.get("/tokens", response_model=list[TokenInfo], summary="One's tokens, live and ended",
            responses=problem_responses(401))
def list_tokens(caller: Reader, store: Store) -> list[TokenInfo]:
    return [TokenInfo.of(t) for t in tokens.tokens(store.db, store.snapshot(), caller.user.name)]


@router.post("/tokens", response_model=IssuedToken, status_code=201, summary="Issue a token for oneself",
             responses=problem_responses(400, 401, 403))
def issue_token(body: TokenRequest, caller: Writer, store: Store, now: Now, src: Source) -> IssuedToken:
    issued = tokens.issue(store.db, store.snapshot(), caller.user.name, now=now, scope=body.scope, days=body.days,
                          label=body.label, source=src)
    return IssuedToken(token=issued.token, **TokenInfo.of(issued.row).model_dump())


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of one's tokens",
               responses=problem_responses(400, 401, 403, 404))
def revoke_token(token_id: Annotated[str, Path(max_length=32)], caller: Writer, store: Store, now: Now,
                 src: Source) -> Response:
    tokens.revoke(store.db, store.snapshot(), caller.user.name, token_id, now=now, source=src)
    return Response(status_code=204)


class Revoked(BaseModel):
    revoked: int = Field(ge=0, description="how many of one's tokens were still live, the one in use included")


@router.delete("/tokens", response_model=Revoked, summary="Revoke every one of one's tokens, all or none",
               description="Every token of the signed-in user ends in one transaction, the one this request came "
                           "with included (as `contactgroup token revoke --all` does locally): the next request "
                           "needs a new sign-in. `all=true` says it is meant.",
               responses=problem_responses(400, 401, 403))
def revoke_all_tokens(caller: Writer, store: Store, now: Now, src: Source,
                      all_: Annotated[bool, Query(alias="all", description="must be true")]) -> Revoked:
    if not all_:
        raise ValidationFailed("must be true: it says that every token of yours is to be revoked", "all")
    return Revoked(revoked=tokens.revoke(store.db, store.snapshot(), caller.user.name, None, now=now, source=src))


class SecurityEntryOut(BaseModel):
    at: datetime
    user: str
    party: str
    actor: str
    kind: str
    source: str
    detail: str


@router.get("/security-log", response_model=list[SecurityEntryOut], summary="The security log one may read",
            description="The coordinator reads every entry, a desk officer its member's accounts', anyone else "
                        "its own; newest first.", responses=problem_responses(400, 401))
def security_log(caller: Reader, store: Store,
                 user: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[SecurityEntryOut]:
    entries = accounts.security_log(store.db, store.snapshot(), caller.user.name, user=user, limit=limit)
    return [SecurityEntryOut(at=e.at, user=e.user_name, party=e.party, actor=e.actor, kind=e.kind, source=e.source,
                             detail=e.detail) for e in entries]
