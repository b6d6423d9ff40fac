"""Effective challenge and decisions: findings, evidence pushed down by other apps, e-signatures."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.inventory import ModelVersion


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    REMEDIATED = "remediated", "Remediation submitted"
    CLOSED = "closed", "Closed (verified by validation)"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


# A finding still blocks approval (when high) until validation closes it or the risk is accepted.
OPEN_FINDING_STATUSES = (FindingStatus.OPEN, FindingStatus.REMEDIATED)


class Finding(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="findings")
    title = models.CharField(max_length=200)
    description = models.TextField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="raised_findings")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_findings")
    due_date = models.DateField()
    remediation_notes = models.TextField(blank=True)
    resolution = models.TextField(blank=True, help_text="why it was closed or its risk accepted")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FINDING_STATUSES


class EvidenceKind(models.TextChoices):
    VALIDATION_RUN = "validation_run", "Validation run"
    REPORT = "report", "Documentation report"
    PACKET = "packet", "Submission packet"
    BACKTEST = "backtest", "Backtest"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    PASS = "PASS", "Pass"
    WARN = "WARN", "Warn"
    FAIL = "FAIL", "Fail"
    # A run in which nothing was tested (every tier skipped): recorded, never enough for approval.
    NOT_RUN = "NOT_RUN", "Not run"
    NA = "NA", "Not applicable"


class Evidence(models.Model):
    """A fact about a version pushed down by a higher app (validation, reports)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=32, choices=EvidenceKind.choices)
    source = models.CharField(max_length=120, help_text="the object it came from, e.g. validation-run:7")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.NA)
    summary = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["version", "source"], name="one_evidence_per_source")]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.outcome}"


class Signature(models.Model):
    """An electronic signature (21 CFR Part 11 style) bound to the exact state of what was signed.

    ``record_sha256`` is the SHA-256 of the canonical JSON of the signed fields at signing time
    (governance.signatures.signed_state); any later change to those fields breaks the binding.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    signer_username = models.CharField(max_length=150)
    role = models.CharField(max_length=32)
    action = models.CharField(max_length=32)
    meaning = models.CharField(max_length=200, help_text='e.g. "approved as approver"')
    from_status = models.CharField(max_length=32)
    to_status = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    record_sha256 = models.CharField(max_length=64)
    signed_fields = models.JSONField(help_text="the canonical state that was hashed")

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.signer_username}: {self.meaning}"
