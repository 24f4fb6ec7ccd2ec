"""The verifiable record: RFC 9162 Merkle tree, signed notes, checkpoints, witnesses. Pure."""
