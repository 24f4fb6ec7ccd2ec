"""Signing the command line in through the browser, for a user whose second factor is a passkey (which a terminal
cannot use): the command line makes a secret and shows a code derived from it and a page of the server; the user,
signed in there, confirms that code; the command line then trades its secret for a token.

Only the confirmed code's hash is kept (with the one-time challenges, for ten minutes) and it is spent once. The
code carries 80 bits of the secret's hash, so nobody who sees it can find a secret that yields it in that time, and
the secret itself never leaves the command line until it is traded. Only a browser session confirms, never a token:
the confirmation stands for the person at the screen."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta

from contactgroup.domain.errors import Conflict, Forbidden, ValidationFailed
from contactgroup.domain.state import State
from contactgroup.services import access, tokens
from contactgroup.services.tokens import Scope, SignedIn
from contactgroup.storage import accounts
from contactgroup.storage.accounts import SecurityEntry
from contactgroup.storage.database import Database

CONFIRM_VALID = timedelta(minutes=10)
PURPOSE = "cli-login"
PAGE = "/cli-login"  # the page where a signed-in user confirms a code
_CODE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}")


def code_of(secret: str) -> str:
    """The code the command line shows for its secret: 16 base32 characters in groups of four."""
    digest = hashlib.sha256(b"contactgroup cli login\0" + secret.encode()).digest()
    text = base64.b32encode(digest[:10]).decode()
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def confirm(db: Database, state: State, caller: SignedIn, code: str, *, now: datetime, source: str) -> str:
    """The signed-in user (a browser session) vouches for the command line showing `code`; it names the user."""
    if not caller.session:
        raise Forbidden("a command line's sign-in is confirmed in a signed-in browser, not with a token",
                        code="session-only")
    shown = code.strip().upper()
    if not _CODE.fullmatch(shown):
        raise ValidationFailed("not a sign-in code: it reads like ABCD-EFGH-IJKL-MNOP", where="code")
    user = access.user(state, caller.user.name)
    with db.writer() as conn:
        accounts.add_challenge(conn, _code_hash(shown), PURPOSE, user.name, now + CONFIRM_VALID, now)
        accounts.log_security(conn, SecurityEntry(now, user.name, user.party, user.name, "cli-login-confirmed",
                                                  source, f"code {shown[:4]}…"))
    return user.name


def redeem(db: Database, state: State, secret: str, *, now: datetime, scope: Scope, label: str,
           source: str) -> tokens.Issued:
    """A token for the user who confirmed this secret's code, once; `Conflict` (code `pending`) until then."""
    with db.writer() as conn:
        name = accounts.take_confirmed(conn, _code_hash(code_of(secret)), PURPOSE, now)
    if name is None:
        raise Conflict("not confirmed yet: open the page shown and confirm the code there (it is valid for ten "
                       "minutes)", code="pending")
    return tokens.issue(db, state, name, now=now, scope=scope, label=label, source=source)
