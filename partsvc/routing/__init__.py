"""Dispatch planning: travel times, the planning problem, the solver and plans."""
