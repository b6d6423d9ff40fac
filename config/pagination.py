"""The API's one pagination class: limit/offset with a capped, validated limit (issue 16 §7).

DRF's ``LimitOffsetPagination`` silently falls back to the default page for ``limit=abc`` and has no
upper bound unless ``max_limit`` is set; a ``limit`` beyond the database's BIGINT range reached the SQL
and answered 500. Here a page is at most ``MAX_LIMIT`` rows and a bad ``limit`` or ``offset`` is a
400 naming the parameter, in the API's error shape (config/exceptions.py).
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# offset + limit must fit PostgreSQL's BIGINT (the OFFSET/LIMIT type): 2**63 - 1.
MAX_OFFSET = 2**63 - 1 - MAX_LIMIT


def _bounded_int(request, name: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    # Only plain decimal digits: int() would also accept "1_000", " 7", "+3" and non-ASCII digits.
    if not text.isascii() or not text.isdigit():
        raise ValidationError({name: [f"{name} must be a whole number from {minimum} to {maximum}; got {raw!r}."]})
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValidationError({name: [f"{name} must be from {minimum} to {maximum}; got {value}."]})
    return value


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` 1..MAX_LIMIT (default DEFAULT_LIMIT), ``?offset=`` 0..MAX_OFFSET; anything else is 400."""

    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return _bounded_int(request, self.limit_query_param, default=self.default_limit, minimum=1,
                            maximum=self.max_limit)

    def get_offset(self, request) -> int:
        return _bounded_int(request, self.offset_query_param, default=0, minimum=0, maximum=MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_limit, "default": self.default_limit})
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update({"minimum": 0, "maximum": MAX_OFFSET})
        return parameters
