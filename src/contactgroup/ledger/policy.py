"""Witness quorum in the spirit of C2SP tlog-policy: a checkpoint counts as witnessed when at least k of the
n configured witnesses have validly cosigned it. Only valid cosignatures from distinct witnesses count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.cosignature import Cosignature, CosignerKey, parse_cosignature

CosignatureInput = str | Iterable[str | Cosignature]


def _cosignatures(lines: CosignatureInput) -> list[Cosignature]:
    items: Iterable[str | Cosignature] = lines.split("\n") if isinstance(lines, str) else lines
    found = []
    for item in items:
        if isinstance(item, Cosignature):
            found.append(item)
            continue
        try:
            found.append(parse_cosignature(item))
        except Exception:  # other signature types and junk are simply not cosignatures
            continue
    return found


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """k-of-n: `quorum` valid cosignatures from distinct `witnesses` make a checkpoint witnessed."""

    witnesses: tuple[CosignerKey, ...]
    quorum: int

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.witnesses, tuple) or not all(isinstance(w, CosignerKey) for w in self.witnesses):
            raise ValidationFailed([Problem("witnesses", "must be a tuple of cosigner keys")])
        n = len(self.witnesses)
        if not isinstance(self.quorum, int) or isinstance(self.quorum, bool) or not 1 <= self.quorum <= n:
            problems.append(Problem("quorum", f"{self.quorum!r} must be between 1 and the {n} witnesses"))
        # tlog-policy: two vkeys wrapping one public key are the same witness, whatever their names;
        # letting both count would let one operator fill two seats of the quorum.
        seen: dict[bytes, str] = {}
        for w in self.witnesses:
            if w.public_key in seen:
                problems.append(Problem("witnesses", f"{w.name} and {seen[w.public_key]} share one public key"))
            seen[w.public_key] = w.name
        if problems:
            raise ValidationFailed(problems)

    def witnessed_by(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> frozenset[CosignerKey]:
        """The configured witnesses with at least one valid cosignature of `checkpoint` among the lines."""
        by_id = {(w.name, w.key_id): w for w in self.witnesses}
        body = checkpoint.body.encode("utf-8")
        signed: set[CosignerKey] = set()
        for cos in _cosignatures(cosignatures):
            witness = by_id.get((cos.name, cos.key_id))
            if witness is not None and witness not in signed and witness.verify(body, cos.payload):
                signed.add(witness)
        return frozenset(signed)

    def is_witnessed(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> bool:
        """Whether at least `quorum` distinct configured witnesses validly cosigned `checkpoint`."""
        return len(self.witnessed_by(checkpoint, cosignatures)) >= self.quorum
