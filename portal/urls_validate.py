"""Page routes for the validate pages (issue 17 §3); included by portal/urls.py ahead of the older routes."""

from django.urls import path

from portal.views import findings, validate

urlpatterns = [
    path("versions/<int:pk>/validation-sets/", validate.generate, name="validate_generate"),
    path("scenario-sets/<int:pk>/validate/", validate.start_validation, name="validate_start"),
    path("scenario-sets/<int:pk>/stress/", validate.stress, name="validate_stress"),
    path("findings/", findings.register, name="findings"),
    path("findings/<int:pk>/", findings.detail, name="finding"),
    path("findings/<int:pk>/remediate/", findings.remediate, name="finding_remediate"),
    path("findings/<int:pk>/resolve/", findings.resolve, name="finding_resolve"),
]
