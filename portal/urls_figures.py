"""Page routes for the figures pages (issue 17); included by portal/urls.py ahead of the older routes.

The chart images themselves stay at ``figures/<kind>/<pk>/<name>.png`` (``portal.views.review.figure_png``).
"""

from django.urls import path

from portal.views import figures

urlpatterns = [
    path("figures/<str:kind>/<int:pk>/draw/", figures.figure_draw, name="figure_draw"),
]
