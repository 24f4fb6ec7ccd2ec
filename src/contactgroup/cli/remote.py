"""The command line as a client of a cell's server.

`contactgroup login` keeps one token per server in the user's config directory (`credentials.json`, mode 0600).
With CONTACTGROUP_SERVER set, a command that reads or changes the coordination goes to that server as the signed-in
user; `--as`, CONTACTGROUP_USER and `--db` are refused beside it (you are who you signed in as). Commands that are
local by nature (setting up a database, checking a copy, a witness, signing keys) keep working on a local one."""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contactgroup.domain.errors import (
    Conflict,
    ContactGroupError,
    Forbidden,
    IntegrityError,
    NotFound,
    NotSignedIn,
    Problem,
    ValidationFailed,
)
from contactgroup.services import wording

SERVER_ENV = "CONTACTGROUP_SERVER"
CONFIG_ENV = "CONTACTGROUP_CONFIG_DIR"
TIMEOUT = 60.0  # seconds: an allocation run or a large import takes a while on the server


@dataclass(frozen=True, slots=True)
class Login:
    server: str
    user: str
    token: str
    token_id: str
    ca_cert: str | None = None


def config_dir() -> Path:
    if explicit := os.environ.get(CONFIG_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "contactgroup"


def _file() -> Path:
    return config_dir() / "credentials.json"


def saved() -> dict[str, Login]:
    """The logins kept on this machine, by server; an unreadable file counts as none (sign in again)."""
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
        return {server: Login(**entry) for server, entry in data.items()}
    except (OSError, ValueError, TypeError):
        return {}


def _write(logins: Mapping[str, Login]) -> None:
    """Replace the credentials file at once, readable by its owner only (created so: never a moment world-readable)."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".credentials-")  # mkstemp creates it 0600
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({s: asdict(login) for s, login in logins.items()}, out, indent=2)
    os.replace(temp, _file())


def save(login: Login) -> None:
    _write({**saved(), login.server: login})


def forget(server: str) -> Login | None:
    logins = saved()
    gone = logins.pop(server, None)
    if gone is not None:
        _write(logins)
    return gone


def server_url(url: str) -> str:
    """A server's base URL as it is kept: scheme, host and port (and a path prefix behind a proxy), no trailing '/'.
    Plain http only to this machine: a token must not cross a network in clear."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"{url!r} is not a server address: write https://HOST[:PORT]", "server")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationFailed("a server address carries no user, password, query or fragment", "server")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValidationFailed(f"{url}: use https (a token must not cross the network in clear; plain http is "
                               "only for this machine)", "server")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server() -> str | None:
    """The server commands go to (CONTACTGROUP_SERVER), or None: commands work on a local database."""
    named = os.environ.get(SERVER_ENV, "").strip()
    return server_url(named) if named else None


def refuse_local_identity(as_: str | None, db: str | None) -> None:
    """With a server named, `--as` and `--db` have no meaning: say why, rather than act as someone else."""
    where = server()
    if where is None:
        return
    if as_:
        raise ValidationFailed(f"--as / CONTACTGROUP_USER cannot be used with a server ({where}): you are who you "
                               "signed in as (`contactgroup login`)", "--as")
    if db:
        raise ValidationFailed(f"--db / CONTACTGROUP_DB cannot be used with a server ({where}): the server holds "
                               "the database; unset CONTACTGROUP_SERVER to work on a local one", "--db")


class Client:
    """Requests to one server, signed in with its kept token; a refusal becomes the platform's error, so a command
    exits and words it as it would locally."""

    def __init__(self, base: str, token: str | None = None, ca_cert: str | None = None, user: str = "") -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        verify: Any = ca_cert if ca_cert else True
        self.base = base
        self.user = user  # who signed in (a command's messages name the user it acts as)
        self.http = httpx.Client(base_url=base, headers=headers, verify=verify, timeout=TIMEOUT)

    @classmethod
    def signed_in(cls, base: str) -> Client:
        login = saved().get(base)
        if login is None:
            raise NotSignedIn()
        return cls(base, login.token, login.ca_cert, login.user)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.exchange(method, path, **kwargs)
        return answer.json() if answer.content else None

    def exchange(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The server's whole answer (its headers too: an ETag), or the platform's error its refusal stands for."""
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            hint = " (a national CA? pass --ca-cert FILE to `contactgroup login`)" if "CERTIFICATE" in str(exc) else ""
            raise ContactGroupError(f"cannot reach {self.base}: {exc}{hint}", code="unreachable") from None
        except httpx.HTTPError as exc:
            raise ContactGroupError(f"{self.base} did not answer: {exc}", code="unreachable") from None
        if answer.is_success:
            return answer
        raise refusal(answer)


# Codes whose command-line hint is for whoever holds the database (sign a checkpoint, migrate, verify it) or names
# `--as`: against a server they are the server operator's to act on, and the server's own wording stands.
SERVER_SIDE = frozenset({"unknown-user", "no-checkpoint", "no-covering-checkpoint", "no-log-key", "tree-mismatch",
                         "schema-behind", "no-database"})
_NOT_PARAMS = frozenset({"message", "problems", "where", "code"})  # the error's own arguments, not parameters


def refusal(answer: httpx.Response) -> ContactGroupError:
    """The error a server's problem document stands for: its message, `code` and `params` (RFC 9457 extension
    members), so that the command words it, hint and all, as it words the same refusal locally."""
    errors: list[Problem] = []
    code, params = "", {}
    try:
        document = answer.json()
        detail = str(document.get("detail") or answer.reason_phrase)
        errors = [Problem(str(e["where"]), str(e["message"])) for e in document.get("errors") or ()]
        code = str(document.get("code") or "")
        params = {str(k): v for k, v in dict(document.get("params") or {}).items() if k not in _NOT_PARAMS}
    except (ValueError, AttributeError, TypeError, KeyError):
        detail = f"{answer.status_code} {answer.reason_phrase}"
    status = answer.status_code
    if status == 401:
        return NotSignedIn()
    if status == 409 and code == "record-differs":  # a report not computed from this record (exit 6)
        return IntegrityError(detail)
    if not code or code in SERVER_SIDE:
        message, code, params = detail, "", {}
    else:  # the message as the service raised it, without what the server added after it (services/wording.py)
        message = detail.removesuffix(wording.added(ContactGroupError("", code=code, **params)))
    if status in (400, 413, 422):
        # several problems (an import's bad rows) each on its line, as a local command lists them
        return ValidationFailed(errors or message, code=code or "invalid", **params)
    kinds: dict[int, type[ContactGroupError]] = {403: Forbidden, 404: NotFound, 409: Conflict, 412: Conflict,
                                                 428: Conflict, 429: Conflict}
    return kinds.get(status, ContactGroupError)(message, code=code or "server", **params)
