"""Page routes for the job page (issue 17 §1): progress of any run started from a page."""

from django.urls import path

from portal.views import jobs

urlpatterns = [
    path("jobs/<str:kind>/<int:pk>/", jobs.job_page, name="job"),
    path("jobs/<str:kind>/<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
]
