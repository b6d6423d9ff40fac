"""Page routes for the explore pages (issue 17); included by portal/urls.py ahead of the older routes."""

from django.urls import path

from portal.views import compare

urlpatterns = [
    path("compare/runs/", compare.compare_runs, name="compare_runs"),
]
