from __future__ import annotations

from django.conf import settings
from django.db import models

from scenarios.models.runs import ScenarioSet


class Portfolio(models.Model):
    """A versioned, immutable list of positions on named risk factors (scenarios.engines.revaluation)."""

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    positions = models.JSONField(help_text="the positions, as revaluation.Portfolio.to_dict()")
    factors = models.JSONField(help_text="risk factors the positions need")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of the positions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="unique_portfolio_version")]

    def __str__(self) -> str:
        return f"portfolio {self.name} v{self.version}"

    @property
    def lineage_uid(self) -> str:
        return f"portfolio:{self.pk}"


class StressResult(models.Model):
    """A scenario set applied to a portfolio: P&L per scenario and day, VaR/ES, worst scenarios."""

    scenario_set = models.ForeignKey(ScenarioSet, on_delete=models.PROTECT, related_name="stress_results")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="stress_results")
    levels = models.JSONField(help_text="confidence levels of VaR/ES")
    risk = models.JSONField(help_text="VaR and ES per level, historical and EVT/GPD")
    worst = models.JSONField(help_text="the worst-k scenarios with their P&L and factor moves")
    distribution = models.JSONField(help_text="loss distribution summary: quantiles, histogram")
    pnl_sha256 = models.CharField(max_length=64)
    pnl_path = models.CharField(max_length=300, help_text="Parquet of P&L [scenario, step]")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"stress result {self.pk}"

    @property
    def lineage_uid(self) -> str:
        return f"stress_result:{self.pk}"
