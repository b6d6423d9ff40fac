"""Validation tables: policies (thresholds per model tier), runs, per-metric results."""

from validation.models.policy import ValidationPolicy
from validation.models.run import MetricRow, ValidationPart, ValidationRun

__all__ = ["MetricRow", "ValidationPart", "ValidationPolicy", "ValidationRun"]
