"""Allocation optimiser: which offer fills which requirement, exactly by priority, then lateness; and why not."""

from contactgroup.allocation.codec import plan_to_dict, problem_from_dict, problem_to_dict
from contactgroup.allocation.heuristic import greedy
from contactgroup.allocation.plan import Allocation, Coverage, LevelCoverage, Plan, Reason
from contactgroup.allocation.problem import AllocationProblem, Offer, Pin, Proposal, Requirement
from contactgroup.allocation.solver import SolverFailed, solve
from contactgroup.allocation.validation import validate

__all__ = [
    "Allocation",
    "AllocationProblem",
    "Coverage",
    "LevelCoverage",
    "Offer",
    "Pin",
    "Plan",
    "Proposal",
    "Reason",
    "Requirement",
    "SolverFailed",
    "greedy",
    "plan_to_dict",
    "problem_from_dict",
    "problem_to_dict",
    "solve",
    "validate",
]
