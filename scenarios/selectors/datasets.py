from __future__ import annotations

from django.db.models import QuerySet

from governance.access import require_any_role
from governance.errors import NotFound
from scenarios.models import Dataset


def dataset_list(*, user) -> QuerySet[Dataset]:
    require_any_role(user)
    return Dataset.objects.select_related("created_by")


def dataset_get(*, user, pk: int) -> Dataset:
    dataset = dataset_list(user=user).filter(pk=pk).first()
    if dataset is None:
        raise NotFound(f"dataset {pk} does not exist")
    return dataset
