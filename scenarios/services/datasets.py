"""Importing datasets: check → canonical Parquet → fingerprint → increments → rows, audit, lineage."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from governance.access import require_any_role
from governance.errors import InvalidInput
from governance.roles import ADMIN, DEVELOPER
from governance.services.audit import audit_record
from governance.services.lineage import lineage_entity, lineage_link, lineage_record_activity
from scenarios import datasets as checks
from scenarios.artifacts import store_bytes
from scenarios.builtin_data import load_builtin
from scenarios.models import Dataset

NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "."]


def _error(error: checks.DatasetError) -> InvalidInput:
    return InvalidInput(str(error), code="invalid_dataset", details={"dataset": [str(error)]})


def _frequency(index: pd.DatetimeIndex) -> str:
    if len(index) < 3:
        return ""
    median_days = float(pd.Series(index).diff().dt.days.median())
    if median_days <= 4:
        return "daily"
    if median_days <= 8:
        return "weekly"
    if median_days <= 35:
        return "monthly"
    if median_days <= 100:
        return "quarterly"
    return "annual"


def read_table_file(handle: IO[bytes], *, filename: str, size: int | None = None) -> pd.DataFrame:
    """Parse an uploaded CSV or Parquet file, refusing anything over the size limit first."""
    limit = settings.CRUCIBLE_MAX_DATASET_BYTES
    if size is not None and size > limit:
        raise InvalidInput(f"{filename} is {size:,} bytes; the limit is {limit:,} bytes", code="too_large")
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{filename} exceeds the limit of {limit:,} bytes", code="too_large")
    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(data))
        if suffix in (".csv", ".txt"):
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=NA_TOKENS)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InvalidInput(f"{filename} could not be read: {error}", code="unreadable") from error
    raise InvalidInput(f"{filename}: only .csv and .parquet files are accepted", code="unsupported_format")


@transaction.atomic
def dataset_import(
    *, actor, name: str, raw: pd.DataFrame, source: str, date_column: str = "date", kind: str = "prices",
    column_kinds: Mapping[str, str] | None = None, risk_classes: Mapping[str, str] | None = None,
    nan_policy: str = "reject", ffill_limit: int = 5, min_rows: int = checks.DEFAULT_MIN_ROWS,
    description: str = "",
) -> Dataset:
    """Check and store a table. Nothing is written unless every check passes."""
    if actor is not None:
        require_any_role(actor, DEVELOPER, ADMIN)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a dataset needs a name of 1–100 characters", details={"name": ["required"]})
    if kind not in checks.COLUMN_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(checks.COLUMN_KINDS)}", details={"kind": [kind]})
    try:
        checked = checks.check_table(raw, date_column=date_column, nan_policy=nan_policy, ffill_limit=ffill_limit,
                                     min_rows=min_rows)
        frame = checked.frame
        factors = [str(c) for c in frame.columns]
        kinds = {f: (column_kinds or {}).get(f, kind) for f in factors}
        unknown = set(column_kinds or {}) - set(factors) | set(risk_classes or {}) - set(factors)
        if unknown:
            raise checks.DatasetError(f"kinds given for unknown columns: {', '.join(sorted(unknown))}")
        checks.check_kinds(factors, kinds, frame)
        classes = {f: (risk_classes or {}).get(f, "other") for f in factors}
        for factor, risk_class in classes.items():
            if risk_class not in checks.RISK_CLASSES:
                raise checks.DatasetError(f"column {factor!r}: risk class {risk_class!r} is not one of "
                                          f"{', '.join(checks.RISK_CLASSES)}")
        canonical = checks.canonical_parquet(frame)
        incr = checks.increments(frame, kinds)
        incr_bytes = checks.canonical_parquet(incr)
    except checks.DatasetError as error:
        raise _error(error) from error

    path, digest = store_bytes(canonical, suffix=".parquet")
    incr_path, incr_digest = store_bytes(incr_bytes, suffix=".parquet")
    version = (Dataset.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    dataset = Dataset.objects.create(
        name=name, version=version, description=description, source=source, frequency=_frequency(frame.index),
        factors=factors, column_kinds=kinds, risk_classes=classes,
        schema={"date": "date32", **{f: "float64" for f in factors}}, n_rows=len(frame),
        start_date=frame.index.min().date(), end_date=frame.index.max().date(), nan_policy=nan_policy,
        quality={"dropped_rows": checked.dropped_rows, "filled_cells": checked.filled_cells,
                 "ffill_limit": ffill_limit if nan_policy == "ffill" else None, "min_rows": min_rows,
                 "checks": ["dates parse", "dates strictly increase", "no duplicate dates", "numeric columns",
                            "finite values", f"NaN policy {nan_policy}", f">= {min_rows} rows", "size limit",
                            "no formula-like column names"]},
        sha256=digest, size_bytes=len(canonical), storage_path=path,
        increments_sha256=incr_digest, increments_path=incr_path, created_by=actor,
    )
    audit_record(actor=actor, action="dataset.imported", object_type="dataset", object_id=dataset.pk,
                 after={"name": name, "version": version, "sha256": digest, "source": source, "rows": len(frame),
                        "factors": factors, "start": dataset.start_date, "end": dataset.end_date})
    entity = lineage_entity(
        uid=dataset.lineage_uid, kind="dataset", label=str(dataset), sha256=digest, object_type="dataset",
        object_id=dataset.pk, actor=actor,
        attributes={"start": dataset.start_date.isoformat(), "end": dataset.end_date.isoformat(),
                    "rows": len(frame), "source": source[:200]},
    )
    increments_entity = lineage_entity(
        uid=f"dataset_increments:{dataset.pk}", kind="dataset_increments", label=f"{dataset} increments",
        sha256=incr_digest, object_type="dataset", object_id=dataset.pk, actor=actor,
    )
    lineage_record_activity(
        activity_uid=f"dataset_import:{dataset.pk}", kind="import", label=f"import {dataset}",
        generated=[entity, increments_entity], agents=[actor] if actor is not None else [], actor=actor,
    )
    lineage_link(source=increments_entity, target=entity, relation="wasDerivedFrom", actor=actor)
    return dataset


def dataset_import_upload(*, actor, handle: IO[bytes], filename: str, size: int | None = None,
                          **options: Any) -> Dataset:
    raw = read_table_file(handle, filename=filename, size=size)
    return dataset_import(actor=actor, raw=raw, source=f"upload:{Path(filename).name}", **options)


def dataset_import_builtin(*, actor, builtin: str, name: str | None = None, **options: Any) -> Dataset:
    try:
        panel = load_builtin(builtin)
    except ValueError as error:
        raise InvalidInput(str(error), details={"builtin": [str(error)]}) from error
    options.setdefault("description", panel.description)
    return dataset_import(actor=actor, name=name or panel.name, raw=panel.frame, source=f"builtin:{builtin}",
                          column_kinds=panel.column_kinds, risk_classes=panel.risk_classes, **options)
