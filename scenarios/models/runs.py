"""Long work as rows with a status: training runs, generation runs (DESIGN §4).

Their status, lease and progress fields are the run kernel's (``governance.models.runs.RunFields``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.runs import RunFields
from scenarios.models.dataset import Dataset


class TrainingRun(RunFields):
    """Fits an engine on a dataset's training window; success registers a model version."""

    model = models.ForeignKey("governance.InventoryModel", on_delete=models.PROTECT, related_name="training_runs")
    version_label = models.CharField(max_length=64, help_text="semantic version to register on success")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="training_runs")
    engine = models.CharField(max_length=64)
    config = models.JSONField(default=dict, blank=True)
    train_start = models.DateField(null=True, blank=True)
    train_end = models.DateField()
    holdout_start = models.DateField()
    holdout_end = models.DateField(null=True, blank=True)
    loss_curve = models.JSONField(default=list, blank=True, help_text="[{step, loss, val_loss}] for reports")
    environment = models.JSONField(default=dict, blank=True)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    checkpoint_path = models.CharField(max_length=300, blank=True)
    model_version = models.OneToOneField("governance.ModelVersion", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="training_run_row")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"training run {self.pk} ({self.engine}, {self.status})"

    @property
    def lineage_uid(self) -> str:
        return f"training_run:{self.pk}"


class Purpose(models.TextChoices):
    USE = "use", "Use (approved or in-use versions only)"
    VALIDATION = "validation", "Independent validation"
    DEVELOPMENT = "development", "Development (draft versions, developers only)"
    EXTERNAL = "external", "External (imported, e.g. a vendor's scenarios)"


class GenerationRun(RunFields):
    """Samples a scenario set from a model version's checkpoint."""

    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.PROTECT,
                                      related_name="generation_runs")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.USE)
    n_scenarios = models.PositiveIntegerField()
    horizon = models.PositiveIntegerField()
    condition = models.JSONField(default=dict, blank=True)
    out_of_range_reason = models.TextField(blank=True, help_text="a developer's reason to generate outside the "
                                                                 "engine's condition bounds (audited)")
    condition_bounds = models.JSONField(default=dict, blank=True,
                                        help_text="the bounds the condition was checked against, and its breaches")
    plausibility_filter = models.JSONField(default=dict, blank=True,
                                           help_text="resolved filter rules applied after sampling; {} = none")
    filter_report = models.JSONField(default=dict, blank=True,
                                     help_text="rules, drawn, removed, share, reasons, max_share")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"generation run {self.pk} ({self.n_scenarios}×{self.horizon}, {self.status})"

    @property
    def lineage_uid(self) -> str:
        return f"generation_run:{self.pk}"


class ScenarioSet(models.Model):
    """``n × horizon × factors`` increments, stored as long-format Parquet, identified by SHA-256."""

    generation_run = models.OneToOneField(GenerationRun, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="scenario_set")
    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="scenario_sets")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="scenario_sets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=200, help_text="generation-run:<id> or import:<file>")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    engine = models.CharField(max_length=64, blank=True)
    engine_config = models.JSONField(default=dict, blank=True)
    condition = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    factors = models.JSONField()
    n_scenarios = models.PositiveIntegerField()
    horizon = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    storage_path = models.CharField(max_length=300)
    out_of_training_range = models.BooleanField(default=False, help_text="generated from a condition outside the "
                                                                         "engine's trained range, with a reason")
    out_of_range_reason = models.TextField(blank=True)
    condition_bounds = models.JSONField(default=dict, blank=True,
                                        help_text="the bounds the condition was checked against, and its breaches")
    filter_report = models.JSONField(default=dict, blank=True,
                                     help_text="plausibility filter: rules, drawn, removed, share, reasons")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"scenario set {self.pk} {self.name}"

    @property
    def lineage_uid(self) -> str:
        return f"scenario_set:{self.pk}"
