from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.runs import RunFields


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



class DatasetImport(RunFields):
    """One upload being parsed and checked by a worker (DESIGN §4: long work is a row with a status).

    The uploaded bytes wait in the upload directory (``staging_path``) until the worker has parsed
    them; they are deleted when the import finishes, whether it succeeded or failed.
    """

    name = models.CharField(max_length=100, help_text="the dataset name to create (a new version if it exists)")
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=16, help_text="csv or parquet")
    size_bytes = models.BigIntegerField()
    upload_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded bytes as received")
    staging_path = models.CharField(max_length=500, blank=True, help_text="the received file; empty once finished")
    options = models.JSONField(default=dict, blank=True,
                               help_text="date_column, kind, column_kinds, risk_classes, nan_policy, ...")
    dataset = models.OneToOneField(Dataset, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="upload_import")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dataset import {self.pk} ({self.filename}, {self.status})"
