"""Django admin for governance: inventory editable through services, audit read-only."""

from governance.admin import audit, inventory, lineage  # noqa: F401 - registers the admin classes
