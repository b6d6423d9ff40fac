"""Scenario API: portfolios (JSON or CSV positions) and stress results."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import require_any_role
from governance.errors import InvalidInput
from scenarios.engines.revaluation import CSV_COLUMNS
from scenarios.models import Portfolio, ScenarioSet, StressResult
from scenarios.selectors.runs import get_or_404, scenario_set_list
from scenarios.services.stress import DEFAULT_LEVELS, portfolio_create, portfolio_create_from_csv, stress_run


class PortfolioOutput(serializers.ModelSerializer):
    class Meta:
        model = Portfolio
        fields = ["id", "name", "version", "description", "positions", "factors", "sha256", "created_at"]


class PortfolioListCreateApi(generics.ListAPIView):
    serializer_class = PortfolioOutput

    class PortfolioInput(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        currency = serializers.CharField(max_length=3, default="USD")
        positions = serializers.ListField(child=serializers.DictField(), allow_empty=False,
                                          help_text="each with a 'kind': linear | quadratic | option | bond")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Portfolio.objects.none()
        require_any_role(self.request.user)
        return Portfolio.objects.all()

    @extend_schema(request=PortfolioInput, responses={201: PortfolioOutput}, operation_id="portfolios_create")
    def post(self, request):
        data = self.PortfolioInput(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = portfolio_create(actor=request.user, **data.validated_data)
        return Response(PortfolioOutput(portfolio).data, status=status.HTTP_201_CREATED)


class PortfolioUploadApi(APIView):
    parser_classes = [MultiPartParser]

    class PortfolioUploadInput(serializers.Serializer):
        file = serializers.FileField(help_text="CSV with a 'kind' column; columns per kind: "
                                     + "; ".join(f"{k}: {', '.join(v)}" for k, v in CSV_COLUMNS.items()))
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request={"multipart/form-data": PortfolioUploadInput}, responses={201: PortfolioOutput},
                   operation_id="portfolios_upload")
    def post(self, request):
        data = self.PortfolioUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise InvalidInput("a positions file may be at most 10 MB", code="too_large")
        portfolio = portfolio_create_from_csv(actor=request.user, name=data.validated_data["name"],
                                              data=upload.read(), description=data.validated_data["description"])
        return Response(PortfolioOutput(portfolio).data, status=status.HTTP_201_CREATED)


class PortfolioDetailApi(APIView):
    @extend_schema(responses=PortfolioOutput, operation_id="portfolios_retrieve")
    def get(self, request, pk: int):
        require_any_role(request.user)
        return Response(PortfolioOutput(get_or_404(Portfolio.objects.all(), pk, "portfolio")).data)


class StressResultOutput(serializers.ModelSerializer):
    class Meta:
        model = StressResult
        fields = ["id", "scenario_set", "portfolio", "levels", "risk", "worst", "distribution", "pnl_sha256",
                  "created_at"]


class StressResultListCreateApi(generics.ListAPIView):
    serializer_class = StressResultOutput

    class StressInput(serializers.Serializer):
        scenario_set = serializers.PrimaryKeyRelatedField(queryset=ScenarioSet.objects.all())
        portfolio = serializers.PrimaryKeyRelatedField(queryset=Portfolio.objects.all())
        levels = serializers.ListField(child=serializers.FloatField(min_value=0.5, max_value=0.9999),
                                       default=list(DEFAULT_LEVELS))
        k = serializers.IntegerField(min_value=1, max_value=1000, default=10)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StressResult.objects.none()
        return StressResult.objects.filter(scenario_set__in=scenario_set_list(user=self.request.user))

    @extend_schema(request=StressInput, responses={201: StressResultOutput}, operation_id="stress_results_create")
    def post(self, request):
        data = self.StressInput(data=request.data)
        data.is_valid(raise_exception=True)
        scenario_set = get_or_404(scenario_set_list(user=request.user), data.validated_data["scenario_set"].pk,
                                  "scenario set")
        stress = stress_run(actor=request.user, scenario_set=scenario_set, portfolio=data.validated_data["portfolio"],
                            levels=data.validated_data["levels"], k=data.validated_data["k"])
        return Response(StressResultOutput(stress).data, status=status.HTTP_201_CREATED)


class StressResultDetailApi(APIView):
    @extend_schema(responses=StressResultOutput, operation_id="stress_results_retrieve")
    def get(self, request, pk: int):
        queryset = StressResult.objects.filter(scenario_set__in=scenario_set_list(user=request.user))
        return Response(StressResultOutput(get_or_404(queryset, pk, "stress result")).data)


urlpatterns = [
    path("portfolios/", PortfolioListCreateApi.as_view(), name="portfolios"),
    path("portfolios/upload/", PortfolioUploadApi.as_view(), name="portfolio-upload"),
    path("portfolios/<int:pk>/", PortfolioDetailApi.as_view(), name="portfolio"),
    path("stress-results/", StressResultListCreateApi.as_view(), name="stress-results"),
    path("stress-results/<int:pk>/", StressResultDetailApi.as_view(), name="stress-result"),
]
