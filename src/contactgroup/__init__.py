"""contactgroup: a shared, verifiable record for coalitions that coordinate assistance to a recipient nation."""

__version__ = "0.1.0"
