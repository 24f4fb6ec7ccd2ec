"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, wire-compatible with Go's sumdb/note.

A note is text ending in a newline, a blank line, then signature lines `— <name> <base64(key id || sig)>`.
Key id = SHA-256(name || 0x0A || type || public key)[:4]. Key text forms (as in Go's note package):
verifier `<name>+<8 hex id>+<base64(0x01 || public key)>`,
signer `PRIVATE+KEY+<name>+<8 hex id>+<base64(0x01 || seed)>`.
Other signature types (the 0x04 witness cosignature) plug in through the `Verifier` / `Signer` protocols.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contactgroup.domain.errors import IntegrityError, Problem, ValidationFailed

ALG_ED25519 = 0x01
KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_SIG_SIZE = 64
MAX_SIGNATURES = 100  # Go's limit; the spec asks verifiers to accept at least 16
SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")  # Go parses the id with strconv.ParseUint(id, 16, 32): either case
# What Go's unicode.IsSpace calls a space (the Unicode White_Space property), which signed-note forbids in names.
# Not Python's str.isspace(), which also counts U+001C..U+001F.
_SPACES = frozenset("\t\n\v\f\r \u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


# --- names, key ids, base64 -------------------------------------------------------------------------------


def name_problems(name: object) -> list[Problem]:
    """What keeps `name` from being a key name (C2SP signed-note): empty, not text, or holding a '+' or a Unicode
    space. Nothing else is forbidden — a control character such as U+007F is a valid name, as in Go."""
    if not isinstance(name, str):
        return [Problem("key name", f"must be text, not {type(name).__name__}")]
    problems = []
    if not name:
        problems.append(Problem("key name", "must not be empty"))
    if "+" in name:
        problems.append(Problem("key name", f"{name!r} must not contain '+'"))
    if any(c in _SPACES for c in name):
        problems.append(Problem("key name", f"{name!r} must not contain white space"))
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        problems.append(Problem("key name", f"{name!r} is not valid UTF-8"))
    return problems


def new_name_problems(name: object) -> list[Problem]:
    """`name_problems`, plus what we refuse in the names of keys we make: control characters (valid, but a
    trap for anyone who has to read or type the name)."""
    problems = name_problems(name)
    if isinstance(name, str) and any(unicodedata.category(c) == "Cc" for c in name):
        problems.append(Problem("key name", f"{name!r} must not contain control characters"))
    return problems


def is_valid_name(name: object) -> bool:
    return not name_problems(name)


def key_id(name: str, key_material: bytes) -> bytes:
    """SHA-256(name || 0x0A || key material)[:4], where key material = type byte || public key."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + key_material).digest()[:KEY_ID_SIZE]


def b64decode_strict(text: str) -> bytes | None:
    """Standard padded base64 (RFC 4648 §4) in its one canonical spelling, or None.

    Re-encoding must give back the same text, which refuses stray characters, missing padding and
    non-zero padding bits: one value, one spelling, so signed bytes cannot be varied undetected.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def b64decode_go(text: str) -> bytes | None:
    """Standard padded base64 as Go's base64.StdEncoding decodes it, or None: the padding must be there, but
    non-zero padding bits are accepted. For signature lines and keys, where Go's note package is the reference:
    their spelling is not signed, so tolerating it lets nothing vary undetected."""
    if not isinstance(text, str) or not text.isascii() or not _B64.fullmatch(text) or len(text) % 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(where, message)])


# --- the two seams: anything that verifies or signs a note line -------------------------------------------


class Verifier(Protocol):
    """Checks signature lines of one key: an Ed25519 note key, a witness cosigner key, ..."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether `signature` (the line's bytes after the key id) is valid over the note `text`."""
        ...


class Signer(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: bytes) -> bytes:
        """The signature bytes (without the key id) over the note `text`."""
        ...


# --- Ed25519 keys -----------------------------------------------------------------------------------------


def _split_key(text: str, parts: int, what: str) -> list[str]:
    if not isinstance(text, str):
        raise _fail(what, f"must be text, not {type(text).__name__}")
    # Only the leading fields are split: the base64 key data may itself contain '+'.
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise _fail(what, f"expected {parts} '+'-separated fields, found {len(fields)}")
    return fields


def _parse_key_fields(name: str, hex_id: str, b64: str, what: str) -> tuple[bytes, int, bytes]:
    problems = [Problem(what, p.message) for p in name_problems(name)]
    if not _HEX8.fullmatch(hex_id):
        problems.append(Problem(what, f"key id {hex_id!r} must be 8 hex digits"))
    raw = b64decode_go(b64)
    if raw is None or len(raw) < 2:
        problems.append(Problem(what, "key data is not valid base64"))
    if problems:
        raise ValidationFailed(problems)
    assert raw is not None
    return bytes.fromhex(hex_id), raw[0], raw[1:]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public Ed25519 note key: name, 4-byte key id and 32-byte public key."""

    name: str
    public_key: bytes
    key_id: bytes = field(default=b"", compare=False)

    def __post_init__(self) -> None:
        problems = name_problems(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != ED25519_KEY_SIZE:
            problems.append(Problem("public key", f"must be {ED25519_KEY_SIZE} bytes"))
        if problems:
            raise ValidationFailed(problems)
        expected = key_id(self.name, bytes([ALG_ED25519]) + self.public_key)
        if self.key_id and self.key_id != expected:
            raise _fail("key id", f"{self.key_id.hex()} does not match name and key (expected {expected.hex()})")
        object.__setattr__(self, "key_id", expected)

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def __str__(self) -> str:
        return self.text

    def verify(self, text: bytes, signature: bytes) -> bool:
        return ed25519_verify(self.public_key, text, signature)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 verification that answers yes or no; cryptography raises on bad signatures."""
    if len(signature) != ED25519_SIG_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (_CryptoInvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A private Ed25519 note key. The seed never appears in repr() or logs."""

    name: str
    seed: bytes = field(repr=False)
    key_id: bytes = field(init=False, compare=False)
    public_key: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        problems = name_problems(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != ED25519_KEY_SIZE:
            problems.append(Problem("seed", f"must be {ED25519_KEY_SIZE} bytes"))
        if problems:
            raise ValidationFailed(problems)
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", key_id(self.name, bytes([ALG_ED25519]) + public))

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.public_key)

    @property
    def text(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_ED25519]) + self.seed)}"

    def sign(self, text: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(text)


def generate_key(name: str) -> tuple[SignerKey, VerifierKey]:
    """A fresh Ed25519 key pair for `name`."""
    problems = new_name_problems(name)
    if problems:
        raise ValidationFailed(problems)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = SignerKey(name, seed)
    return signer, signer.verifier


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse `<name>+<hex id>+<base64(0x01 || public key)>`; the id must match name and key."""
    name, hex_id, b64 = _split_key(text, 3, "verifier key")
    kid, alg, public = _parse_key_fields(name, hex_id, b64, "verifier key")
    if alg != ALG_ED25519:
        raise _fail("verifier key", f"unsupported signature type 0x{alg:02x} (only Ed25519 0x01)")
    if len(public) != ED25519_KEY_SIZE:
        raise _fail("verifier key", f"Ed25519 public key must be {ED25519_KEY_SIZE} bytes")
    return VerifierKey(name, public, kid)


def parse_signer_key(text: str) -> SignerKey:
    """Parse `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`; the id must match the derived public key."""
    private, key, name, hex_id, b64 = _split_key(text, 5, "signer key")
    if (private, key) != ("PRIVATE", "KEY"):
        raise _fail("signer key", "must start with PRIVATE+KEY+")
    kid, alg, seed = _parse_key_fields(name, hex_id, b64, "signer key")
    if alg != ALG_ED25519:
        raise _fail("signer key", f"unsupported signature type 0x{alg:02x} (only Ed25519 0x01)")
    if len(seed) != ED25519_KEY_SIZE:
        raise _fail("signer key", f"Ed25519 seed must be {ED25519_KEY_SIZE} bytes")
    signer = SignerKey(name, seed)
    if signer.key_id != kid:
        raise _fail("signer key", f"key id {hex_id} does not match the key (expected {signer.key_id.hex()})")
    return signer


# --- notes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: who (name, key id) and the signature bytes after the key id."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed, not yet verified note: its text (with the final newline) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...]

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note after verification: the text, the signatures known keys verified, and those from unknown keys."""

    text: str
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


class InvalidNoteSignature(IntegrityError):
    """A signature from a known key does not verify: the note is forged or altered."""

    def __init__(self, name: str, kid: bytes) -> None:
        super().__init__(f"invalid signature for key {name}+{kid.hex()}")
        self.name, self.key_id = name, kid


class UnverifiedNote(IntegrityError):
    """No signature from a known key: the note's text must be ignored."""

    def __init__(self, note: Note) -> None:
        super().__init__("note has no signature from a known key")
        self.note = note


def text_problems(text: object) -> list[Problem]:
    """What keeps `text` from being a note text: not a string, empty, no final newline, control characters."""
    if not isinstance(text, str):
        return [Problem("note", f"text must be a string, not {type(text).__name__}")]
    problems = []
    if not text.endswith("\n"):
        problems.append(Problem("note", "text must end with a newline"))
    bad = sorted({f"U+{ord(c):04X}" for c in text if (ord(c) < 0x20 and c != "\n") or 0xD800 <= ord(c) <= 0xDFFF})
    if bad:
        problems.append(Problem("note", f"text holds forbidden characters {', '.join(bad)}"))
    return problems


def parse_note(note_text: str | bytes) -> Note:
    """Split a signed note into text and signature lines, checking syntax only (no signature is verified).

    Bytes must be valid UTF-8."""
    if isinstance(note_text, bytes):
        try:
            note_text = note_text.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("note", "not valid UTF-8") from None
    problems = text_problems(note_text)
    if problems:
        raise ValidationFailed(problems)
    split = note_text.rfind("\n\n")  # the LAST blank line separates text from signatures
    if split < 0:
        raise _fail("note", "no blank line before the signatures")
    text, block = note_text[: split + 1], note_text[split + 2 :]
    if not block:
        raise _fail("note", "no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _fail("note", f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        signatures.append(parse_signature_line(line, where=f"signature line {number}"))
    return Note(text, tuple(signatures))


def parse_signature_line(line: str, where: str = "signature line") -> Signature:
    """Parse `— <name> <base64(key id || signature)>` (a trailing newline is allowed)."""
    if not isinstance(line, str):
        raise _fail(where, "must be text")
    line = line[:-1] if line.endswith("\n") else line
    if not line.startswith(SIG_PREFIX):
        raise _fail(where, "must start with an em dash and a space")
    name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
    raw = b64decode_go(b64) if sep else None
    if not is_valid_name(name) or raw is None or len(raw) < KEY_ID_SIZE + 1:
        raise _fail(where, f"malformed signature line {line!r}")
    return Signature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    index: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        k = (v.name, v.key_id)
        if k in index and index[k] != v:
            # Two different keys claiming one (name, id): the trust configuration itself is broken.
            raise _fail("verifiers", f"ambiguous key {v.name}+{v.key_id.hex()}")
        index[k] = v
    return index


def open_note(note_text: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse and verify a note against known keys (C2SP signed-note rules).

    Signatures from unknown (name, key id) pairs are kept as unverified; a known key's failing signature
    rejects the whole note (`InvalidNoteSignature`); a note no known key signed raises `UnverifiedNote`.
    Repeated lines by one known key are verified once (the first), as Go does.
    Malformed notes raise `ValidationFailed`.
    """
    note = parse_note(note_text)
    known = _index_verifiers(verifiers)
    message = note.text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in note.signatures:
        k = (sig.name, sig.key_id)
        v = known.get(k)
        if v is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if k in seen:
            continue
        seen.add(k)
        if not v.verify(message, sig.signature):
            raise InvalidNoteSignature(sig.name, sig.key_id)
        verified.append(sig)
    if not verified:
        raise UnverifiedNote(note)
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def verify_note(note_text: str | bytes, verifier: Verifier) -> bool:
    """Whether `verifier`'s key validly signed the note (never raises)."""
    try:
        open_note(note_text, [verifier])
    except Exception:  # a yes/no answer for callers that only need one
        return False
    return True


def sign_note(text: str, signers: Sequence[Signer], existing: Sequence[Signature] = ()) -> str:
    """The signed note: `text`, a blank line, the `existing` signature lines kept (minus those the new
    signers replace), then one new line per signer — the order Go's note.Sign uses."""
    problems = text_problems(text)
    if isinstance(text, str) and not text:
        problems.append(Problem("note", "text must not be empty"))
    if problems:
        raise ValidationFailed(problems)
    if not signers:
        raise _fail("note", "at least one signer is needed")
    message = text.encode("utf-8")
    new = []
    for s in signers:
        if not is_valid_name(s.name):
            raise _fail("signer", f"invalid key name {s.name!r}")
        new.append(Signature(s.name, s.key_id, s.sign(message)))
    replaced = {(s.name, s.key_id) for s in new}
    kept = tuple(s for s in existing if (s.name, s.key_id) not in replaced)
    if len(kept) + len(new) > MAX_SIGNATURES:
        raise _fail("note", f"more than {MAX_SIGNATURES} signatures")
    return Note(text, kept + tuple(new)).format()
