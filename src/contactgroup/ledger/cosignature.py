"""C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature), Ed25519 flavour: a witness's timestamped
statement that a checkpoint is the largest consistent tree it has seen for the log.

Key id = SHA-256(name || 0x0A || 0x04 || public key)[:4]; signed message = "cosignature/v1\\n" +
"time <unix seconds>\\n" + checkpoint body; line payload = key id || u64 big-endian time || Ed25519 signature.
A cosigner's private key is an ordinary Ed25519 note signer key (`PRIVATE+KEY+...`, type 0x01); its public
identity is the vkey with type 0x04.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.note import (
    ED25519_KEY_SIZE,
    ED25519_SIG_SIZE,
    Signature,
    SignerKey,
    VerifierKey,
    b64decode_go,
    b64encode,
    ed25519_verify,
    generate_key,
    key_id,
    name_problems,
    parse_signature_line,
    parse_signer_key,
)

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1
_TIMESTAMP_SIZE = 8
PAYLOAD_SIZE = _TIMESTAMP_SIZE + ED25519_SIG_SIZE


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes a v1 cosignature signs: header line, time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def _check_timestamp(timestamp: object) -> int:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValidationFailed([Problem("timestamp", f"{timestamp!r} is not a POSIX time in 0..2^63-1")])
    return timestamp


@dataclass(frozen=True, slots=True)
class CosignerKey:
    """A witness's public key for v1 cosignatures (a `note.Verifier` for type 0x04 lines)."""

    name: str
    public_key: bytes
    key_id: bytes = field(default=b"", compare=False)

    def __post_init__(self) -> None:
        problems = name_problems(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != ED25519_KEY_SIZE:
            problems.append(Problem("public key", f"must be {ED25519_KEY_SIZE} bytes"))
        if problems:
            raise ValidationFailed(problems)
        expected = key_id(self.name, bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        if self.key_id and self.key_id != expected:
            raise ValidationFailed(
                [Problem("key id", f"{self.key_id.hex()} does not match (expected {expected.hex()})")]
            )
        object.__setattr__(self, "key_id", expected)

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key)}"

    def __str__(self) -> str:
        return self.text

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Verify a cosignature line payload (timestamp || signature) over a checkpoint note text."""
        if len(signature) != PAYLOAD_SIZE:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text
        return ed25519_verify(self.public_key, message, signature[_TIMESTAMP_SIZE:])


def cosigner_key_for(note_key: VerifierKey) -> CosignerKey:
    """The cosigner identity of a witness whose Ed25519 key is published as a note (0x01) vkey."""
    return CosignerKey(note_key.name, note_key.public_key)


def parse_cosigner_key(text: str) -> CosignerKey:
    """Parse `<name>+<hex id>+<base64(0x04 || public key)>`; the id must match."""
    if not isinstance(text, str) or text.count("+") < 2:
        raise ValidationFailed([Problem("cosigner key", "expected <name>+<hex id>+<base64 key>")])
    name, hex_id, b64 = text.split("+", 2)  # the base64 key data may itself contain '+'

    problems = [Problem("cosigner key", p.message) for p in name_problems(name)]
    raw = b64decode_go(b64)
    if len(hex_id) != 8 or not all(c in "0123456789abcdefABCDEF" for c in hex_id):
        problems.append(Problem("cosigner key", f"key id {hex_id!r} must be 8 hex digits"))
    if raw is None or len(raw) != 1 + ED25519_KEY_SIZE:
        problems.append(Problem("cosigner key", "key data must be base64 of 33 bytes"))
    elif raw[0] != ALG_COSIGNATURE_V1:
        problems.append(Problem("cosigner key", f"signature type 0x{raw[0]:02x} is not 0x04 (cosignature/v1)"))
    if problems:
        raise ValidationFailed(problems)
    assert raw is not None
    return CosignerKey(name, raw[1:], bytes.fromhex(hex_id))


@dataclass(frozen=True, slots=True)
class Cosignature:
    """One parsed v1 cosignature line."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    @property
    def line(self) -> str:
        return Signature(self.name, self.key_id, self.payload).line

    @property
    def payload(self) -> bytes:
        return self.timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.signature


def parse_cosignature(line: str) -> Cosignature:
    """Parse a `— <name> <base64(key id || time || signature)>` line (syntax only, no verification)."""
    sig = parse_signature_line(line, where="cosignature")
    if len(sig.signature) != PAYLOAD_SIZE:
        raise ValidationFailed([Problem("cosignature", f"payload is {len(sig.signature)} bytes, not {PAYLOAD_SIZE}")])
    timestamp = int.from_bytes(sig.signature[:_TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise ValidationFailed([Problem("cosignature", "timestamp exceeds 2^63-1")])
    return Cosignature(sig.name, sig.key_id, timestamp, sig.signature[_TIMESTAMP_SIZE:])


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A witness's signing side: an Ed25519 note signer key used for type 0x04 cosignatures."""

    key: SignerKey

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def verifier(self) -> CosignerKey:
        return CosignerKey(self.key.name, self.key.public_key)

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def text(self) -> str:
        """The private key text (the note signer form); keep it secret."""
        return self.key.text

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> Cosignature:
        """Cosign `checkpoint` as of `timestamp` (POSIX seconds, from the caller's clock)."""
        _check_timestamp(timestamp)
        signature = self.key.sign(cosignature_message(checkpoint.body, timestamp))
        return Cosignature(self.name, self.key_id, timestamp, signature)

    def at(self, timestamp: int) -> TimedCosigner:
        """A `note.Signer` that cosigns at a fixed time, for `sign_note`."""
        return TimedCosigner(self, _check_timestamp(timestamp))


@dataclass(frozen=True, slots=True)
class TimedCosigner:
    cosigner: Cosigner
    timestamp: int

    @property
    def name(self) -> str:
        return self.cosigner.name

    @property
    def key_id(self) -> bytes:
        return self.cosigner.key_id

    def sign(self, text: bytes) -> bytes:
        message = f"cosignature/v1\ntime {self.timestamp}\n".encode() + text
        return self.timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.cosigner.key.sign(message)


def generate_cosigner(name: str) -> tuple[Cosigner, CosignerKey]:
    """A fresh witness key pair for `name`."""
    signer, _ = generate_key(name)
    cosigner = Cosigner(signer)
    return cosigner, cosigner.verifier


def parse_cosigner(text: str) -> Cosigner:
    """A cosigner from its private key text (`PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`)."""
    return Cosigner(parse_signer_key(text))


def verify_cosignature(checkpoint: Checkpoint, cosignature: str | Cosignature, key: CosignerKey) -> bool:
    """Whether `cosignature` (a line or a parsed one) is `key`'s valid v1 cosignature of `checkpoint`.

    Never raises: a malformed line, another key's line or a bad signature all answer False.
    """
    try:
        cos = parse_cosignature(cosignature) if isinstance(cosignature, str) else cosignature
        if (cos.name, cos.key_id) != (key.name, key.key_id):
            return False
        return key.verify(checkpoint.body.encode("utf-8"), cos.payload)
    except Exception:  # yes/no API
        return False
