"""Passkeys (WebAuthn): an alternative to the TOTP second factor, where the browser offers one.

A passkey is bound to the relying party's id, a DNS name (the server's host: `localhost` in tests), and answers
only pages of the server's own origin, so a look-alike site cannot relay it. Each challenge is handed out once, kept
as a hash for five minutes and spent by the first answer, in the database, so that any server process can check
it. Registration and sign-in require user verification (the authenticator's PIN or biometric)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from contactgroup.domain.errors import PasskeyRefused, PasskeysUnavailable, ValidationFailed
from contactgroup.domain.model import User
from contactgroup.domain.state import State
from contactgroup.services import access
from contactgroup.storage import accounts
from contactgroup.storage.accounts import PasskeyRow, SecurityEntry
from contactgroup.storage.database import Connection, Database

CHALLENGE_VALID = timedelta(minutes=5)
MAX_ANSWER = 64 * 1024  # characters of a credential's JSON: far above any authenticator's answer
RP_NAME = "contactgroup"


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """The server as passkeys know it: its public origin (`https://cell.example.org`) and that origin's host."""

    id: str
    origin: str

    @classmethod
    def of(cls, origin: str | None) -> RelyingParty | None:
        if not origin:
            return None
        parts = urlsplit(origin)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"a server's origin is scheme://host[:port], not {origin!r}")
        return cls(parts.hostname, f"{parts.scheme}://{parts.netloc}")


def _party(rp: RelyingParty | None) -> RelyingParty:
    if rp is None:
        raise PasskeysUnavailable()
    return rp


def _challenge_hash(challenge: bytes) -> bytes:
    return hashlib.sha256(challenge).digest()


def _options(options: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return loaded


def registration_options(db: Database, state: State, who: str, rp: RelyingParty | None, *,
                         now: datetime) -> dict[str, Any]:
    """What the browser needs to create a passkey for the signed-in user `who` (its passkeys excluded)."""
    party = _party(rp)
    user = access.user(state, who)
    challenge = secrets.token_bytes(32)
    with db.writer() as conn:
        existing = accounts.passkeys_of(conn, user.name)
        accounts.add_challenge(conn, _challenge_hash(challenge), "register", user.name, now + CHALLENGE_VALID, now)
    return _options(webauthn.generate_registration_options(
        rp_id=party.id, rp_name=RP_NAME, user_name=user.name, user_id=hashlib.sha256(user.name.encode()).digest(),
        challenge=challenge, exclude_credentials=[PublicKeyCredentialDescriptor(base64url_to_bytes(p.id))
                                                  for p in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED)))


def sign_in_options(db: Database, rp: RelyingParty | None, *, now: datetime) -> dict[str, Any]:
    """A challenge for a passkey sign-in. It names no user and no passkey (the authenticator offers the passkeys it
    holds for this server), so it tells nothing of which names exist."""
    party = _party(rp)
    challenge = secrets.token_bytes(32)
    with db.writer() as conn:
        accounts.add_challenge(conn, _challenge_hash(challenge), "sign-in", "", now + CHALLENGE_VALID, now)
    return _options(webauthn.generate_authentication_options(
        rp_id=party.id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED))


def _challenge(credential: Mapping[str, Any]) -> bytes:
    """The challenge the browser signed, as its client data says (checked against the spent one by the verifier)."""
    if len(json.dumps(credential)) > MAX_ANSWER:
        raise ValidationFailed(f"a passkey's answer is at most {MAX_ANSWER} characters", "passkey")
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        return base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise PasskeyRefused() from None


def register(db: Database, state: State, who: str, credential: Mapping[str, Any], rp: RelyingParty | None, *,
             now: datetime, source: str = "cli") -> PasskeyRow:
    """Verify the browser's new passkey for `who` against the challenge handed out to it, and keep its public key."""
    party = _party(rp)
    user = access.user(state, who)
    challenge = _challenge(credential)
    with db.writer() as conn:  # spent whatever the outcome
        taken = accounts.take_challenge(conn, _challenge_hash(challenge), "register", user.name, now)
    if not taken:
        raise PasskeyRefused()
    try:
        verified = webauthn.verify_registration_response(
            credential=dict(credential), expected_challenge=challenge, expected_rp_id=party.id,
            expected_origin=party.origin, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyRefused() from None
    with db.writer() as conn:
        row = PasskeyRow(bytes_to_base64url(verified.credential_id), user.name, verified.credential_public_key,
                         verified.sign_count, now, None)
        if accounts.passkey(conn, row.id) is not None:
            raise PasskeyRefused()
        accounts.add_passkey(conn, row)
        accounts.log_security(conn, SecurityEntry(now, user.name, user.party, user.name, "passkey-added", source[:64],
                                                  f"passkey {row.id[:16]}…"))
    return row


def passkeys(db: Database, state: State, who: str) -> list[PasskeyRow]:
    user = access.user(state, who)
    with db.reader() as conn:
        return accounts.passkeys_of(conn, user.name)


def verify_sign_in(conn: Connection, user: User, credential: Mapping[str, Any], rp: RelyingParty | None,
                   now: datetime) -> bool:
    """Whether `credential` is a fresh answer, by one of `user`'s passkeys, to a sign-in challenge this server
    handed out (spent now, whatever the outcome). False on a server with no origin: a refusal that differs from a
    wrong password's would tell that the password was right."""
    if rp is None:
        return False
    try:
        challenge = _challenge(credential)
        key_id = str(credential["id"])
    except (PasskeyRefused, ValidationFailed, KeyError, TypeError):
        return False
    if not accounts.take_challenge(conn, _challenge_hash(challenge), "sign-in", "", now):
        return False
    stored = accounts.passkey(conn, key_id[:512])
    if stored is None or stored.user_name != user.name:
        return False
    try:
        verified = webauthn.verify_authentication_response(
            credential=dict(credential), expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    accounts.use_passkey(conn, stored.id, verified.new_sign_count, now)
    return True
