"""Importing datasets: check → canonical Parquet → fingerprint → increments → rows, audit, lineage.

Tables a caller already holds in memory (bundled series, programmatic frames) are checked here, in
process. Uploaded files are parsed by a worker in a memory-limited process:
``scenarios.services.dataset_imports`` (``dataset_import_upload`` below runs that path synchronously).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import IO, Any

import pandas as pd
from django.db import transaction
from django.db.models import Max

from governance.access import require_any_role
from governance.artifacts import store_bytes
from governance.errors import InvalidInput
from governance.roles import ADMIN, DEVELOPER
from governance.services.audit import audit_record
from governance.services.lineage import lineage_entity, lineage_link, lineage_record_activity
from scenarios import datasets as checks
from scenarios.builtin_data import load_builtin
from scenarios.models import Dataset

NA_TOKENS = checks.NA_TOKENS


def dataset_error(error: checks.DatasetError | str) -> InvalidInput:
    message = str(error)
    return InvalidInput(message, code="invalid_dataset", details={"dataset": [message]})


def require_importer(actor) -> None:
    """Who may import: a developer or an admin, always named (no unattributed datasets)."""
    if actor is None:
        raise InvalidInput("an import needs the user who makes it: every dataset records its importer",
                           code="no_actor")
    require_any_role(actor, DEVELOPER, ADMIN)


def check_name_and_kind(name: str, kind: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a dataset needs a name of 1–100 characters", details={"name": ["required"]})
    if kind not in checks.COLUMN_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(checks.COLUMN_KINDS)}", details={"kind": [kind]})
    return name


@transaction.atomic
def dataset_import(
    *, actor, name: str, raw: pd.DataFrame, source: str, date_column: str = "date", kind: str = "prices",
    column_kinds: Mapping[str, str] | None = None, risk_classes: Mapping[str, str] | None = None,
    nan_policy: str = "reject", ffill_limit: int = 5, min_rows: int = checks.DEFAULT_MIN_ROWS,
    description: str = "",
) -> Dataset:
    """Check and store a table held in memory. Nothing is written unless every check passes."""
    require_importer(actor)
    name = check_name_and_kind(name, kind)
    try:
        prepared = checks.prepare_table(raw, date_column=date_column, kind=kind, column_kinds=column_kinds,
                                        risk_classes=risk_classes, nan_policy=nan_policy, ffill_limit=ffill_limit,
                                        min_rows=min_rows)
    except checks.DatasetError as error:
        raise dataset_error(error) from error
    return dataset_store_prepared(actor=actor, name=name, source=source, prepared=prepared, nan_policy=nan_policy,
                                  ffill_limit=ffill_limit, min_rows=min_rows, description=description)


@transaction.atomic
def dataset_store_prepared(
    *, actor, name: str, source: str, prepared: checks.PreparedTable, nan_policy: str, ffill_limit: int,
    min_rows: int, description: str = "", provenance: Mapping[str, Any] | None = None,
) -> Dataset:
    """Store a checked table (its canonical bytes), then its rows, audit event and lineage."""
    require_importer(actor)
    path, digest = store_bytes(prepared.canonical, suffix=".parquet")
    incr_path, incr_digest = store_bytes(prepared.increments, suffix=".parquet")
    version = (Dataset.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    factors = list(prepared.factors)
    start, end = dt.date.fromisoformat(prepared.start_date), dt.date.fromisoformat(prepared.end_date)
    dataset = Dataset.objects.create(
        name=name, version=version, description=description, source=source, frequency=prepared.frequency,
        factors=factors, column_kinds=prepared.column_kinds, risk_classes=prepared.risk_classes,
        schema={"date": "date32", **{f: "float64" for f in factors}}, n_rows=prepared.n_rows,
        start_date=start, end_date=end, nan_policy=nan_policy,
        quality={"dropped_rows": prepared.dropped_rows, "filled_cells": prepared.filled_cells,
                 "ffill_limit": ffill_limit if nan_policy == "ffill" else None, "min_rows": min_rows,
                 "checks": ["dates parse", "dates are not numbers", "dates within 1900-2100",
                            "dates strictly increase", "no duplicate dates", "numeric columns", "finite values",
                            f"NaN policy {nan_policy}", f">= {min_rows} rows", "size limit",
                            "no formula-like column names"]},
        sha256=digest, size_bytes=len(prepared.canonical), storage_path=path,
        increments_sha256=incr_digest, increments_path=incr_path, created_by=actor,
    )
    audit_record(actor=actor, action="dataset.imported", object_type="dataset", object_id=dataset.pk,
                 after={"name": name, "version": version, "sha256": digest, "source": source,
                        "rows": prepared.n_rows, "factors": factors, "start": start, "end": end,
                        **dict(provenance or {})})
    entity = lineage_entity(
        uid=dataset.lineage_uid, kind="dataset", label=str(dataset), sha256=digest, object_type="dataset",
        object_id=dataset.pk, actor=actor,
        attributes={"start": start.isoformat(), "end": end.isoformat(), "rows": prepared.n_rows,
                    "source": source[:200], **dict(provenance or {})},
    )
    increments_entity = lineage_entity(
        uid=f"dataset_increments:{dataset.pk}", kind="dataset_increments", label=f"{dataset} increments",
        sha256=incr_digest, object_type="dataset", object_id=dataset.pk, actor=actor,
    )
    lineage_record_activity(
        activity_uid=f"dataset_import:{dataset.pk}", kind="import", label=f"import {dataset}",
        generated=[entity, increments_entity], agents=[actor], actor=actor,
    )
    lineage_link(source=increments_entity, target=entity, relation="wasDerivedFrom", actor=actor)
    return dataset


def dataset_import_upload(*, actor, handle: IO[bytes], filename: str, size: int | None = None,
                          **options: Any) -> Dataset:
    """Import a file now, in this process, through the same memory-limited parser a worker uses."""
    from scenarios.services.dataset_imports import dataset_import_now

    return dataset_import_now(actor=actor, handle=handle, filename=filename, size=size, **options)


def dataset_import_builtin(*, actor, builtin: str, name: str | None = None, **options: Any) -> Dataset:
    try:
        panel = load_builtin(builtin)
    except ValueError as error:
        raise InvalidInput(str(error), details={"builtin": [str(error)]}) from error
    options.setdefault("description", panel.description)
    return dataset_import(actor=actor, name=name or panel.name, raw=panel.frame, source=f"builtin:{builtin}",
                          column_kinds=panel.column_kinds, risk_classes=panel.risk_classes, **options)
