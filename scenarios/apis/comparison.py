"""Scenario API: the champion/challenger comparison of a model's versions (issue 15 §4)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import InvalidInput
from governance.selectors.inventory import model_get
from scenarios.models import Portfolio
from scenarios.selectors.runs import get_or_404
from scenarios.services.comparison import comparison_table


class ModelComparisonApi(APIView):
    """Every version in use × condition × VaR/ES, the most conservative figure and its source, disagreement
    flags. Versions the caller may not see are left out."""

    @extend_schema(
        parameters=[OpenApiParameter("portfolio", OpenApiTypes.INT, description="portfolio id; default: the "
                                     "portfolio most recently stressed with the model's versions")],
        responses=OpenApiTypes.OBJECT, operation_id="model_comparison",
    )
    def get(self, request, model_id: str):
        model = model_get(user=request.user, model_id=model_id)
        portfolio = None
        raw = request.query_params.get("portfolio")
        if raw not in (None, ""):
            if not raw.isdigit():
                raise InvalidInput("portfolio must be a portfolio id (an integer)", details={"portfolio": [raw]})
            portfolio = get_or_404(Portfolio.objects.all(), int(raw), "portfolio")
        return Response(comparison_table(model=model, portfolio=portfolio, user=request.user))


urlpatterns = [
    path("models/<str:model_id>/comparison/", ModelComparisonApi.as_view(), name="model-comparison"),
]
