"""Scenario tables: datasets (and later runs, scenario sets, portfolios, stress results)."""

from scenarios.models.dataset import Dataset

__all__ = ["Dataset"]
