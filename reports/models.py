"""Documentation PDFs and submission packets: each is a run row (DESIGN §4) and, once SUCCEEDED, a file."""

from __future__ import annotations

from django.db import models

from governance.models.runs import RunFields


class Report(RunFields):
    """One rendering of a model version's documentation PDF (templates/reports/)."""

    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.PROTECT, related_name="reports")
    scenario_sets = models.ManyToManyField("scenarios.ScenarioSet", related_name="reports", blank=True)
    validation_runs = models.ManyToManyField("validation.ValidationRun", related_name="reports", blank=True)
    stress_results = models.ManyToManyField("scenarios.StressResult", related_name="reports", blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="SHAP explainer and sample sizes, limits")
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the PDF bytes")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    storage_path = models.CharField(max_length=300, blank=True, help_text="relative to ARTIFACT_ROOT")
    pages = models.PositiveIntegerField(null=True, blank=True)
    sections = models.JSONField(default=list, blank=True, help_text="section titles, in order")
    shap = models.JSONField(default=dict, blank=True, help_text="explainer, sample sizes, additivity residual")
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per rendering stage")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.model_version}, {self.status})"

    @property
    def lineage_uid(self) -> str:
        return f"report:{self.pk}"


class Packet(RunFields):
    """A regulatory submission packet: a deterministic zip built around one report."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="packets")
    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.PROTECT, related_name="packets")
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the zip bytes")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    storage_path = models.CharField(max_length=300, blank=True, help_text="relative to ARTIFACT_ROOT")
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=list, blank=True, help_text="[{name, sha256, size}] as in manifest.json")
    lineage_ids = models.JSONField(default=list, blank=True, help_text="lineage node uids the packet covers")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"packet {self.pk} ({self.model_version}, {self.status})"

    @property
    def lineage_uid(self) -> str:
        return f"packet:{self.pk}"


class FigureSubject(models.TextChoices):
    """What a figure set draws: the kinds in the chart URL (``/figures/<kind>/<pk>/<name>.png``)."""

    VALIDATION_RUN = "validation-run", "Validation run"
    SCENARIO_SET = "scenario-set", "Scenario set"
    STRESS = "stress", "Stress result"
    TRAINING_RUN = "training-run", "Training run"


class FigureSet(RunFields):
    """The charts of one finished result, drawn by a task and stored as content-addressed PNGs (DESIGN §4:
    a page only reads). One set per subject; ``figures`` is ``[{name, title, caption, sha256, path}]`` in the
    order the page shows them, ``path`` relative to ARTIFACT_ROOT."""

    subject_kind = models.CharField(max_length=32, choices=FigureSubject.choices)
    subject_id = models.PositiveBigIntegerField()
    figures = models.JSONField(default=list, blank=True, help_text="[{name, title, caption, sha256, path}]")
    summary = models.JSONField(default=dict, blank=True,
                               help_text="numbers drawn from, that pages overlay without reading the data: for a "
                                         "scenario set {quantiles: [...], fan: {factor: [[value per step] per q]}}")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["subject_kind", "subject_id"], name="unique_figure_set_subject")]

    def __str__(self) -> str:
        return f"figure set {self.pk} ({self.subject_kind} {self.subject_id}, {self.status})"

    @property
    def lineage_uid(self) -> str:
        return f"figure_set:{self.pk}"

    def figure(self, name: str) -> dict | None:
        return next((f for f in self.figures or [] if f.get("name") == name), None)
