"""Read-side reports over the state: coverage, burden sharing, pledge-to-delivery lag, gaps; and valuation."""

from contactgroup.reports.summary import burden_summary, coverage_summary

__all__ = ["burden_summary", "coverage_summary"]
