"""The verifiable record: canonical bytes, RFC 9162 Merkle tree, signed notes, checkpoints, witnesses. Pure."""
