from __future__ import annotations

from django.db import models

from governance.models.runs import RunFields
from scenarios.models import Dataset, ScenarioSet
from validation.models.policy import ValidationPolicy


class Outcome(models.TextChoices):
    PASS = "PASS", "Pass"
    WARN = "WARN", "Warn"
    FAIL = "FAIL", "Fail"
    INFO = "INFO", "Informational"
    NOT_RUN = "NOT_RUN", "Not run (nothing to test)"


class ValidationRun(RunFields):
    """The multi-tier suite on one scenario set against the holdout window of its dataset.

    Two parts run on two queues — statistical tiers (cpu) and neural scores (gpu) — each a
    ``ValidationPart`` row with its own lease; the run finishes when both have, then pushes its
    outcome to governance as evidence. ``parts`` is the parts' statuses, kept in step by the kernel.
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


class ValidationPart(RunFields):
    """One part of a validation run as a run of its own (the run kernel's lease, heartbeat, retry, reaper).

    Rows rather than a status per part inside the run's JSON: each part is claimed, renewed, retried
    and reaped by the same code as every other run kind, and the two parts (on two queues, often on two
    machines) never contend for one row while they work — only when one of them finishes.
    """

    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="part_rows")
    name = models.CharField(max_length=16, help_text="statistical or neural")

    class Meta:
        ordering = ["run", "name"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="validation_part_once_per_run")]

    def __str__(self) -> str:
        return f"validation run {self.run_id} {self.name} part ({self.status})"


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
