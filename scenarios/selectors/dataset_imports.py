"""Reading dataset imports: the importer sees their own; admins and auditors see all."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import require_any_role
from governance.errors import NotFound
from governance.roles import ADMIN, AUDITOR
from scenarios.models.dataset import DatasetImport


def dataset_import_list(*, user) -> QuerySet[DatasetImport]:
    held = require_any_role(user)
    imports = DatasetImport.objects.select_related("created_by", "dataset")
    if held & {ADMIN, AUDITOR}:
        return imports
    return imports.filter(created_by=user)


def dataset_import_get(*, user, pk: int) -> DatasetImport:
    row = dataset_import_list(user=user).filter(pk=pk).first()
    if row is None:
        raise NotFound(f"dataset import {pk} does not exist")
    return row
