"""Use cases: authorize the caller, decide on the current state, record the events — in one transaction."""
