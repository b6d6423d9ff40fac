"""Scenario tables: datasets, training and generation runs, scenario sets, portfolios, stress results."""

from scenarios.models.dataset import Dataset
from scenarios.models.portfolio import Portfolio, StressResult
from scenarios.models.runs import GenerationRun, Purpose, ScenarioSet, TrainingRun

__all__ = ["Dataset", "GenerationRun", "Portfolio", "Purpose", "ScenarioSet", "StressResult", "TrainingRun"]
