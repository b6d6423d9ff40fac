"""Page routes for the submit pages (issue 17 §4-5); included by portal/urls.py ahead of the older routes."""

from django.urls import path

from portal.views import submit, submit_verify

urlpatterns = [
    path("versions/<int:pk>/submission/", submit.submission_page, name="submission"),
    path("versions/<int:pk>/submission/documentation/", submit.documentation_generate,
         name="documentation_generate"),
    path("versions/<int:pk>/submission/packet/", submit.packet_build, name="packet_build"),
    path("packets/verify/", submit_verify.packet_verify, name="packet_verify"),
]
