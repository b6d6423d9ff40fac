"""API routes of the reports app (under /api/v1/)."""

from reports import apis

app_name = "reports"

urlpatterns = [*apis.urlpatterns]
