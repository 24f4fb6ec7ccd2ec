"""Private key files: written once, readable by their owner only (0600), never overwritten; and a key given on
the command line as text or `@path`."""

from __future__ import annotations

import os
from pathlib import Path

from contactgroup.domain.errors import Conflict, NotFound, ValidationFailed
from contactgroup.ledger.note import SignerKey, parse_signer_key


def write_private_key(path: str | os.PathLike[str], key_text: str) -> None:
    """Create `path` readable by its owner only (0600) holding one private key line; never overwrite."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{target} already exists: a private key is never overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key_text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(target, 0o600)  # the umask cannot widen it, but an inherited ACL or odd umask might narrow oddly


def read_signer_key(path: str | os.PathLike[str]) -> SignerKey:
    """The private key in a key file (`PRIVATE+KEY+...`)."""
    target = Path(path)
    try:
        text = target.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NotFound(f"no key file at {target}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ValidationFailed(f"cannot read key file {target}: {exc}", where="key file") from None
    return parse_signer_key(text)


def parse_key_argument(text: str) -> str:
    """A key given on the command line: the key text itself, or `@path` to a file holding it."""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise NotFound(f"cannot read key file {text[1:]}: {exc}") from None
    return text.strip()
