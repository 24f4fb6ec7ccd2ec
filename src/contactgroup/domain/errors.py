"""One error tree for the whole platform; each adapter renders it (exit code, problem+json, page message)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ContactGroupError(Exception):
    """Base of every error the platform raises on purpose. `status` is the HTTP-like status an adapter uses.

    `code` and `params` say what went wrong as data (`NotFound("no user 'x'", code="unknown-user", user="x")`), so
    that each adapter can word its own hint (the CLI names its `--as` option, the API does not); the message itself
    names no front door (no option, command or URL)."""

    status = 400
    exit_code = 1

    def __init__(self, message: str = "", *, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class NotFound(ContactGroupError):
    status = 404
    exit_code = 3


class NotSignedIn(ContactGroupError):
    """No valid credentials came with a request: one answer whatever was wrong (unknown, expired, revoked or
    malformed token; a disabled user), so that a refusal tells an attacker nothing."""

    status = 401
    exit_code = 4

    def __init__(self) -> None:
        super().__init__("not signed in, or the credentials are no longer valid: sign in again", code="not-signed-in")


class Forbidden(ContactGroupError):
    status = 403
    exit_code = 4


class Conflict(ContactGroupError):
    status = 409
    exit_code = 5


class InvalidTransition(Conflict):
    """An illegal lifecycle move; the message names the object and both states."""

    def __init__(self, kind: str, ident: str, current: str, to: str) -> None:
        super().__init__(f"{kind} {ident} cannot go from {current!r} to {to!r}", code="invalid-transition",
                         kind=kind, id=ident, current=current, to=to)
        self.kind, self.ident, self.current, self.to = kind, ident, current, to


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about input: where (file, row, column or field) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ValidationFailed(ContactGroupError):
    """Input that cannot be accepted; carries every problem found, not just the first."""

    status = 422
    exit_code = 2

    def __init__(self, problems: Sequence[Problem] | str, where: str = "", *, code: str = "invalid",
                 **params: object) -> None:
        if isinstance(problems, str):
            problems = [Problem(where, problems)]
        self.problems = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(shown + (f"\n... and {more} more problems" if more > 0 else ""), code=code, **params)


class MissingRate(ContactGroupError):
    """No exchange rate is known for a currency on a date; never guessed, never zero."""

    status = 422
    exit_code = 2

    def __init__(self, currency: str, on: object, *, why: str = "the ECB does not publish it",
                 about: str = "") -> None:
        what = f" ({about})" if about else ""
        super().__init__(f"no exchange rate for {currency} on {on}{what}: {why}", code="missing-rate",
                         currency=currency, on=on, why=why, about=about)
        self.currency, self.on, self.why, self.about = currency, on, why, about

    def concerning(self, about: str) -> MissingRate:
        """The same missing rate, naming what needed it (an offer and its member, a pledge, a GDP figure)."""
        return MissingRate(self.currency, self.on, why=self.why, about=about)


class IntegrityError(ContactGroupError):
    """The record does not match itself: a changed, missing or reordered event, or a projection that differs."""

    status = 500
    exit_code = 6


class DatabaseBusy(Conflict):
    """Another writer held the database longer than this one would wait, or won a race it kept losing; nothing
    was written and running the same request again is safe. `reason`: "busy" or "lock-timeout"."""

    status = 503

    def __init__(self, message: str, *, reason: str = "busy", detail: str = "", waited: float = 0.0) -> None:
        super().__init__(message)
        self.reason, self.detail, self.waited = reason, detail, waited


class DatabaseUnavailable(ContactGroupError):
    """The database could not be used (unreachable, not a contactgroup database) or refused a change; nothing was
    written. `reason`: "not-a-database", "unusable" or "refused"."""

    status = 503

    def __init__(self, message: str, *, reason: str = "unusable", detail: str = "") -> None:
        super().__init__(message)
        self.reason, self.detail = reason, detail


class SignInFailed(ContactGroupError):
    """A sign-in with a wrong name, password or second factor, or an account not (yet) enrolled: one answer for
    every reason, so that it tells no one which names exist."""

    status = 401
    exit_code = 4

    def __init__(self) -> None:
        super().__init__("sign-in failed: the name, the password or the second factor's code is wrong",
                         code="sign-in-failed")


class TooManyAttempts(ContactGroupError):
    """Sign-in refused for a while after repeated failures for the account or from the address: `retry_after`
    seconds (a back-off that grows and is capped, never a lock-out)."""

    status = 429
    exit_code = 5

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after} seconds", code="too-many-attempts",
                         retry_after=retry_after)
        self.retry_after = retry_after


class CsrfRefused(Forbidden):
    """A change asked with a browser session's cookie but without the session's CSRF token: it may come from
    another site's page."""

    def __init__(self) -> None:
        super().__init__("a change made with a browser session must carry the session's CSRF token",
                         code="csrf")


class EnrolmentRefused(ContactGroupError):
    """An enrolment code that is unknown, used or expired: one answer for every reason."""

    status = 400
    exit_code = 4

    def __init__(self) -> None:
        super().__init__("this enrolment code is unknown, used or expired: ask your desk officer (or the "
                         "coordinator) for a new one", code="enrolment-refused")


class PasskeyRefused(ContactGroupError):
    """A passkey's answer that does not verify (unknown or spent challenge, another origin, a bad signature, a
    passkey of another user): one answer for every reason."""

    status = 400
    exit_code = 4

    def __init__(self) -> None:
        super().__init__("the passkey's answer could not be verified: try again", code="passkey-refused")


class PasskeysUnavailable(ContactGroupError):
    """Passkeys are bound to the server's public origin, which this server was not told."""

    status = 409
    exit_code = 5

    def __init__(self) -> None:
        super().__init__("passkeys are not available on this server: its public origin is not configured",
                         code="no-passkeys")


class PreconditionFailed(ContactGroupError):
    """A change sent with the version it read (`If-Match`) that is no longer the current one: someone changed the
    object since, so the change is refused rather than written over theirs."""

    status = 412
    exit_code = 5


class PreconditionRequired(ContactGroupError):
    """An amendment sent without the version it read: refused, so that no change is written over an unseen one."""

    status = 428
    exit_code = 2

