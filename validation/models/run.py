from __future__ import annotations

from django.db import models

from scenarios.models import Dataset, ScenarioSet
from scenarios.models.runs import RunFields
from validation.models.policy import ValidationPolicy


class Outcome(models.TextChoices):
    PASS = "PASS", "Pass"
    WARN = "WARN", "Warn"
    FAIL = "FAIL", "Fail"
    INFO = "INFO", "Informational"
    NOT_RUN = "NOT_RUN", "Not run (nothing to test)"


class ValidationRun(RunFields):
    """The multi-tier suite on one scenario set against the holdout window of its dataset.

    Two parts run on two queues — statistical tiers (cpu) and neural scores (gpu) — and the run
    finishes when both have (``parts``), then pushes its outcome to governance as evidence.
    """

    scenario_set = models.ForeignKey(ScenarioSet, on_delete=models.PROTECT, related_name="validation_runs")
    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="validation_runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="validation_runs")
    policy = models.ForeignKey(ValidationPolicy, on_delete=models.PROTECT, related_name="runs")
    train_start = models.DateField(null=True, blank=True)
    train_end = models.DateField()
    holdout_start = models.DateField()
    holdout_end = models.DateField(null=True, blank=True)
    tiers = models.JSONField(help_text="suite tiers requested")
    options = models.JSONField(default=dict, blank=True, help_text="reference portfolio, coherence rules, ...")
    parts = models.JSONField(default=dict, help_text='{"statistical": status, "neural": status}')
    tier_outcomes = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    results_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"validation run {self.pk} ({self.status}{' ' + self.outcome if self.outcome else ''})"

    @property
    def lineage_uid(self) -> str:
        return f"validation_run:{self.pk}"


class MetricRow(models.Model):
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="metrics")
    tier = models.CharField(max_length=32)
    name = models.CharField(max_length=64)
    factor = models.CharField(max_length=100, blank=True)
    value = models.FloatField(null=True)
    pvalue = models.FloatField(null=True)
    threshold = models.FloatField(null=True)
    warn_threshold = models.FloatField(null=True)
    direction = models.CharField(max_length=8)
    floor = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    details = models.JSONField(default=dict, blank=True)
    reference = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["tier", "name", "factor"]
        indexes = [models.Index(fields=["run", "tier"])]

    def __str__(self) -> str:
        return f"{self.tier}/{self.name}{'/' + self.factor if self.factor else ''}: {self.outcome}"
