"""Page routes (server-rendered HTML)."""

from pathlib import Path

from django.urls import include, path
from django.views.static import serve

from portal.views import audit, auth, inventory, review, runs

app_name = "portal"
ASSETS = Path(__file__).resolve().parent / "static" / "portal"

urlpatterns = [
    # Issue 17: each area keeps its routes in its own module; listed first, they take precedence.
    *(path("", include(f"portal.urls_{area}"))
      for area in ("jobs", "figures", "develop", "validate", "submit", "explore")),
    path("", inventory.home, name="home"),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth.SignOutView.as_view(), name="logout"),
    # The stylesheet and script are served by the app itself, so the pages look right behind
    # gunicorn without a collectstatic step or a CDN.
    path("assets/<path:path>", serve, {"document_root": ASSETS}, name="asset"),
    path("inventory/", inventory.model_list_page, name="inventory"),
    path("inventory/<str:model_id>/", inventory.model_page, name="model"),
    path("versions/<int:pk>/", inventory.version_page, name="version"),
    path("versions/<int:pk>/findings/new/", review.finding_new, name="finding_new"),
    path("versions/<int:pk>/decision/", review.decision, name="decision"),
    path("validation/", review.validation_queue, name="validation_queue"),
    path("validation/runs/<int:pk>/", review.validation_run_page, name="validation_run"),
    path("figures/<str:kind>/<int:pk>/<str:name>.png", review.figure_png, name="figure"),
    path("approvals/", review.approval_queue, name="approval_queue"),
    path("lineage/", audit.lineage_start, name="lineage"),
    path("lineage/<str:uid>/", audit.lineage_node, name="lineage_node"),
    path("audit/", audit.audit_log, name="audit"),
    path("documents/", audit.documents, name="documents"),
    path("documents/reports/<int:pk>.pdf", audit.report_pdf, name="report_pdf"),
    path("documents/packets/<int:pk>.zip", audit.packet_zip, name="packet_zip"),
    path("runs/", runs.runs_page, name="runs"),
]
