"""The bottom layer: how a record is written as bytes (canonical JSON). Imports nothing else of contactgroup."""
