"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement "the log with this origin
has this many leaves and this root hash". Body = origin, decimal size, base64 root, optional extension lines,
each ending in a newline. Parsing is strict: one checkpoint, one spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.ledger.merkle import HASH_SIZE, MAX_SIZE
from contactgroup.ledger.note import (
    OpenedNote,
    Signature,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    open_note,
    sign_note,
)

_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # ASCII only: str.isdigit() would let other scripts' digits in


def _line_problems(where: str, line: object) -> list[Problem]:
    if not isinstance(line, str):
        return [Problem(where, f"must be text, not {type(line).__name__}")]
    if not line:
        return [Problem(where, "must not be empty")]
    bad = sorted({f"U+{ord(c):04X}" for c in line if ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF})
    return [Problem(where, f"holds forbidden characters {', '.join(bad)}")] if bad else []


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size (number of leaves) and RFC 9162 root hash, plus opaque extensions."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = _line_problems("origin", self.origin)
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_SIZE:
            problems.append(Problem("size", f"{self.size!r} is not a tree size (0..2^64-1)"))
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            problems.append(Problem("root", f"must be {HASH_SIZE} bytes"))
        if not isinstance(self.extensions, tuple):
            problems.append(Problem("extensions", "must be a tuple of lines"))
        else:
            for i, ext in enumerate(self.extensions):
                problems.extend(_line_problems(f"extension {i + 1}", ext))
        if problems:
            raise ValidationFailed(problems)

    @property
    def body(self) -> str:
        """The note text: every line newline-terminated."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def checkpoint_problems(body: object) -> list[Problem]:
    """Every reason `body` is not a well-formed checkpoint body (empty when it is one)."""
    if not isinstance(body, str):
        return [Problem("checkpoint", f"must be text, not {type(body).__name__}")]
    if not body.endswith("\n"):
        return [Problem("checkpoint", "must end with a newline")]
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        return [Problem("checkpoint", f"needs origin, size and root lines; found {len(lines)} line(s)")]
    origin, size, root, *extensions = lines
    problems = _line_problems("origin", origin)
    if not _DECIMAL.fullmatch(size):
        problems.append(Problem("size", f"{size!r} is not a decimal without leading zeros"))
    elif int(size) > MAX_SIZE:
        problems.append(Problem("size", f"{size} exceeds 2^64-1"))
    raw = b64decode_strict(root)
    if raw is None:
        problems.append(Problem("root", f"{root!r} is not canonical base64"))
    elif len(raw) != HASH_SIZE:
        problems.append(Problem("root", f"decodes to {len(raw)} bytes, not {HASH_SIZE}"))
    for i, ext in enumerate(extensions):
        problems.extend(_line_problems(f"extension {i + 1}", ext))
    return problems


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint in `body`; raises `ValidationFailed` listing every problem found."""
    problems = checkpoint_problems(body)
    if problems:
        raise ValidationFailed(problems)
    origin, size, root, *extensions = body[:-1].split("\n")
    raw = b64decode_strict(root)
    assert raw is not None
    return Checkpoint(origin, int(size), raw, tuple(extensions))


def format_checkpoint(checkpoint: Checkpoint) -> str:
    return checkpoint.body


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose note at least one trusted key verified."""

    checkpoint: Checkpoint
    note: OpenedNote


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer], existing: Sequence[Signature] = ()) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.body, signers, existing)


def open_checkpoint(note_text: str | bytes, verifiers: Iterable[Verifier]) -> SignedCheckpoint:
    """Verify a signed checkpoint note against trusted keys, then parse its body strictly.

    Raises what `open_note` raises (malformed, invalid or missing trusted signature), or `ValidationFailed`
    when the verified text is not a checkpoint.
    """
    opened = open_note(note_text, verifiers)
    return SignedCheckpoint(parse_checkpoint(opened.text), opened)
