from __future__ import annotations

from django.conf import settings
from django.db import models


class ValidationPolicy(models.Model):
    """Thresholds for the validation suite, per model tier (1 strictest), versioned.

    ``thresholds`` maps a metric name to ``{"threshold": x, "warn": y}``: a value beyond the
    threshold but within ``warn`` is WARN, beyond ``warn`` FAIL (direction as the metric's).
    Only admins change a policy, through an audited service that writes a new version.
    """

    model_tier = models.PositiveSmallIntegerField()
    version = models.PositiveIntegerField()
    thresholds = models.JSONField()
    noise_floor = models.JSONField(default=dict, help_text="resamples, paths, which metrics get a floor")
    suite_settings = models.JSONField(
        default=dict, blank=True,
        help_text="default coherence rules, plausibility region, adversarial grid, family-wise control, filter share")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_tier", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model_tier", "version"], name="unique_policy_version"),
            models.CheckConstraint(condition=models.Q(model_tier__gte=1, model_tier__lte=3), name="policy_tier_1_3"),
        ]

    def __str__(self) -> str:
        return f"validation policy tier {self.model_tier} v{self.version}"
