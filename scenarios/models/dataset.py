from __future__ import annotations

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    """A checked market-data table stored as canonical Parquet, identified by its SHA-256.

    Importing the same name again makes a new version; the bytes of a version never change.
    """

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    source = models.CharField(max_length=200, help_text="upload, file path or builtin:<name>")
    frequency = models.CharField(max_length=16, blank=True, help_text="daily, monthly, quarterly (inferred)")
    factors = models.JSONField(help_text="factor column names in order")
    column_kinds = models.JSONField(help_text="factor → prices|returns|levels|rates")
    risk_classes = models.JSONField(help_text="factor → equity|rates|credit|commodity|fx|volatility|macro|other")
    schema = models.JSONField(help_text="column → type, as stored")
    n_rows = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    nan_policy = models.CharField(max_length=8)
    quality = models.JSONField(default=dict, help_text="what the checks found: dropped rows, filled cells, ...")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the canonical Parquet bytes")
    size_bytes = models.BigIntegerField()
    storage_path = models.CharField(max_length=300, help_text="relative to ARTIFACT_ROOT")
    increments_sha256 = models.CharField(max_length=64)
    increments_path = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="unique_dataset_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def lineage_uid(self) -> str:
        return f"dataset:{self.pk}"
