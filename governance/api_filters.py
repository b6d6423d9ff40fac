"""The API's filter backend: django-filter with every numeric query parameter bounded (issue 16 §7).

django-filter's ``NumberFilter`` parses with ``forms.DecimalField``: ``?version=1e20`` is a valid
Decimal, reached the database as an integer beyond BIGINT and answered 500 (OverflowError), and
``?version=1.5`` was silently truncated. This backend gives each numeric filter of every filter set —
declared, generated from ``filterset_fields``, written later by anyone — an integer form field with
the range of the model field it filters (Django's own ``connection.ops.integer_field_range``, ids from
1), unless the filter declares its own bounds. Out of range or not a whole number → 400 naming the
parameter (``DjangoFilterBackend`` raises the form's errors as a ``ValidationError``).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP
from django_filters import filters
from django_filters.fields import IsoDateTimeField, IsoDateTimeRangeField, RangeField
from django_filters.rest_framework import DjangoFilterBackend

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


class IntegerFilter(filters.NumberFilter):
    """A whole-number filter; bound it with ``min_value=``/``max_value=``."""

    field_class = forms.IntegerField


class IntegerRangeField(RangeField):
    def __init__(self, *args, min_value=None, max_value=None, **kwargs):
        fields = (forms.IntegerField(min_value=min_value, max_value=max_value),
                  forms.IntegerField(min_value=min_value, max_value=max_value))
        super().__init__(fields, *args, **kwargs)


class IntegerRangeFilter(filters.RangeFilter):
    """``name_min`` / ``name_max`` whole numbers; bound them with ``min_value=``/``max_value=``."""

    field_class = IntegerRangeField


# PostgreSQL refuses a UTC offset of 16 h or more ("time zone displacement out of range"): found by the schema
# fuzz as a 500 on ``/api/v1/audit/events/?timestamp_before=2176-04-14T03:04:03-22:49``.
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59, seconds=59)


def _check_offset(value):
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise forms.ValidationError("a UTC offset must lie within -15:59 and +15:59", code="utc_offset")
    return value


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time whose UTC offset the database can store."""

    def clean(self, value):
        return _check_offset(super().clean(value))


class BoundedIsoDateTimeRangeField(IsoDateTimeRangeField):
    def __init__(self, *args, **kwargs):
        RangeField.__init__(self, (BoundedIsoDateTimeField(), BoundedIsoDateTimeField()), *args, **kwargs)


def _model_field(model, field_name: str) -> models.Field | None:
    """The model field a filter's ``field_name`` ends on (following relations), or None."""
    if model is None or not field_name:
        return None
    field = None
    for part in field_name.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if field.is_relation:
            model = field.related_model
    if field is not None and (field.many_to_one or field.one_to_one):
        field = field.target_field
    return field


def integer_range(field: models.Field | None) -> tuple[int, int] | None:
    """(min, max) of the values an integer model field can hold on this database; ids start at 1."""
    if not isinstance(field, models.IntegerField | models.AutoField):
        return None
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    low = BIGINT_MIN if low is None else low
    high = BIGINT_MAX if high is None else high
    if field.primary_key:
        low = max(low, 1)
    return low, high


def bound_numeric_filters(filterset) -> None:
    """Give every unbounded numeric filter of ``filterset`` (an instance) a whole-number field in range, and every
    ISO date-time filter a UTC offset the database can store."""
    model = filterset._meta.model
    for declared in filterset.filters.values():
        if declared.field_class is IsoDateTimeRangeField:
            declared.field_class = BoundedIsoDateTimeRangeField
            continue
        if declared.field_class is IsoDateTimeField:
            declared.field_class = BoundedIsoDateTimeField
            continue
        if not isinstance(declared, filters.NumberFilter | filters.RangeFilter):
            continue
        if "min_value" in declared.extra or "max_value" in declared.extra:
            continue
        bounds = integer_range(_model_field(model, declared.field_name))
        if isinstance(declared, filters.RangeFilter):
            if bounds is not None and declared.field_class is RangeField:
                declared.field_class = IntegerRangeField
                declared.extra.update(min_value=bounds[0], max_value=bounds[1])
            continue
        if declared.field_class not in (forms.DecimalField, forms.IntegerField):
            continue  # e.g. a CSV "in" filter: its own field class
        if bounds is not None:
            declared.field_class = forms.IntegerField
            declared.extra.update(min_value=bounds[0], max_value=bounds[1])
        else:  # a method filter or a decimal field: at least keep it inside what a database column can hold
            declared.extra.update(min_value=BIGINT_MIN, max_value=BIGINT_MAX)


class BoundedFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            bound_numeric_filters(filterset)
        return filterset
