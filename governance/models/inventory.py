"""The model inventory (SR 11-7 §V, SR 26-2): one record per model, one row per version."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

SEMVER = RegexValidator(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$",
    "Use a semantic version such as 1.2.0 or 1.0.0-rc.1.",
)


class ModelFamily(models.TextChoices):
    DIFFUSION = "diffusion", "Diffusion (DDPM/DDIM)"
    TIMEGAN = "timegan", "TimeGAN"
    WGAN_GP = "wgan_gp", "Conditional WGAN-GP"
    VAE = "vae", "VAE"
    LSTM_TRANSFORMER = "lstm_transformer", "LSTM-Transformer"
    COPULA = "copula", "Copula with GARCH-EVT margins"
    FACTOR_MC = "factor_mc", "Factor Monte Carlo"
    HISTORICAL = "historical", "Historical replay / bootstrap"
    HYPOTHETICAL = "hypothetical", "Hypothetical shocks"
    SUPERVISORY = "supervisory", "Supervisory scenario translation"
    OTHER = "other", "Other"


class MaterialityPurpose(models.TextChoices):
    """What the model's output is used for; weighs into the tier (governance.tiering)."""

    REGULATORY_CAPITAL = "regulatory_capital", "Regulatory capital / capital planning"
    REGULATORY_STRESS = "regulatory_stress", "Regulatory stress testing (CCAR/DFAST/ICAAP)"
    RISK_MANAGEMENT = "risk_management", "Internal risk management and limits"
    BUSINESS_DECISION = "business_decision", "Business decisions"
    INFORMATIONAL = "informational", "Informational / research"


class RegulatoryUse(models.TextChoices):
    CCAR = "CCAR", "CCAR"
    DFAST = "DFAST", "DFAST"
    ICAAP = "ICAAP", "ICAAP"
    EBA = "EBA", "EBA stress test"
    INTERNAL = "internal_stress", "Internal stress testing"
    OTHER = "other", "Other"


class ModelStatus(models.TextChoices):
    IN_DEVELOPMENT = "in_development", "In development"
    IN_VALIDATION = "in_validation", "In validation"
    APPROVED = "approved", "Approved"
    IN_USE = "in_use", "In use"
    RETIRED = "retired", "Retired"


class InventoryModel(models.Model):
    """A model in the inventory. Its versions carry the artefacts and the workflow state."""

    model_id = models.CharField(max_length=32, unique=True, help_text="inventory id, e.g. CRU-0001")
    name = models.CharField(max_length=200)
    purpose = models.TextField(help_text="purpose and intended use")
    use_restrictions = models.TextField(blank=True)
    business_line = models.CharField(max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models")
    developers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="developed_models", blank=True)
    family = models.CharField(max_length=32, choices=ModelFamily.choices)
    vendor = models.CharField(max_length=200, blank=True, help_text="empty means developed in-house")
    inputs = models.TextField(blank=True)
    outputs = models.TextField(blank=True)
    assumptions = models.TextField(blank=True)
    limitations = models.TextField(blank=True, help_text="known limitations")
    upstream = models.ManyToManyField(
        "self", symmetrical=False, related_name="downstream", blank=True,
        help_text="models whose outputs this model consumes",
    )
    regulatory_uses = models.JSONField(default=list, blank=True)
    # Materiality → tier (governance.tiering, a versioned rule) with an audited override.
    exposure_usd = models.DecimalField(max_digits=20, decimal_places=2, validators=[MinValueValidator(0)])
    materiality_purpose = models.CharField(max_length=32, choices=MaterialityPurpose.choices)
    computed_tier = models.PositiveSmallIntegerField()
    tier_rule_version = models.CharField(max_length=32)
    tier_override = models.PositiveSmallIntegerField(null=True, blank=True)
    tier_override_reason = models.TextField(blank=True)
    validation_frequency_months = models.PositiveSmallIntegerField()
    last_validated_on = models.DateField(null=True, blank=True)
    next_validation_due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=32, choices=ModelStatus.choices, default=ModelStatus.IN_DEVELOPMENT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(computed_tier__gte=1, computed_tier__lte=3), name="tier_1_to_3"),
            models.CheckConstraint(
                condition=models.Q(tier_override__isnull=True) | models.Q(tier_override__gte=1, tier_override__lte=3),
                name="override_tier_1_to_3",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.name}"

    @property
    def tier(self) -> int:
        return self.tier_override or self.computed_tier


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_VALIDATION = "in_validation", "In validation"
    VALIDATED = "validated", "Validated"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    IN_USE = "in_use", "In use"
    RETIRED = "retired", "Retired"
    REJECTED = "rejected", "Rejected"


class VersionRole(models.TextChoices):
    """A version's standing among the model's versions (champion/challenger governance, issue 15 §4).

    Changed only by ``governance.services.workflow.version_role_set``; at most one champion per model.
    """

    NONE = "", "None"
    CHAMPION = "champion", "Champion"
    CHALLENGER = "challenger", "Challenger"
    BENCHMARK = "benchmark", "Benchmark"


class ModelVersion(models.Model):
    """One trained artefact of a model, moving through the workflow (governance.workflow)."""

    model = models.ForeignKey(InventoryModel, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=64, validators=[SEMVER])
    status = models.CharField(max_length=32, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    engine = models.CharField(max_length=64, blank=True, help_text="engine name, e.g. diffusion")
    config = models.JSONField(default=dict, blank=True)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    checkpoint_uri = models.CharField(max_length=500, blank=True)
    training_run = models.CharField(max_length=100, blank=True, help_text="reference to the run, e.g. training-run:12")
    dataset_fingerprints = models.JSONField(default=list, blank=True, help_text="SHA-256 of every dataset seen")
    train_start = models.DateField(null=True, blank=True)
    train_end = models.DateField(null=True, blank=True)
    holdout_start = models.DateField(null=True, blank=True)
    holdout_end = models.DateField(null=True, blank=True)
    environment = models.JSONField(default=dict, blank=True, help_text="package versions, device, git commit, seed")
    notes = models.TextField(blank=True)
    role = models.CharField(max_length=16, choices=VersionRole.choices, default=VersionRole.NONE, blank=True,
                            help_text="champion, challenger or benchmark; set only through the workflow service")
    developers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="developed_versions", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="validating_versions"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="approved_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="unique_version_per_model"),
            models.UniqueConstraint(fields=["model"], condition=models.Q(role="champion"),
                                    name="one_champion_per_model"),
        ]

    def __str__(self) -> str:
        return f"{self.model.model_id} v{self.version}"


class InvolvementRole(models.TextChoices):
    OWNER = "owner", "Owner"
    CREATOR = "creator", "Creator"
    MODEL_DEVELOPER = "model_developer", "Developer of the model"
    VERSION_DEVELOPER = "version_developer", "Developer of a version"


class ModelInvolvement(models.Model):
    """Who has built a model, and from when until when (issue 16 §5).

    Segregation of duties asks whether a person is independent of a model, and leaving its
    ``developers`` does not make anyone independent of what they built. The current M2M fields say
    who builds it now; these rows say who ever did: a row is written by the inventory services when
    a person becomes owner, creator or developer, and only closed (``ended_at``) when they leave,
    never deleted. A table rather than a search of the audit trail's JSON snapshots because the
    check runs on every workflow step and every decision button a page draws: an indexed lookup.
    """

    model = models.ForeignKey(InventoryModel, on_delete=models.PROTECT, related_name="involvements")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="involvements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="model_involvements")
    role = models.CharField(max_length=32, choices=InvolvementRole.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_id", "started_at", "id"]
        indexes = [models.Index(fields=["model", "user"])]

    def __str__(self) -> str:
        until = f" until {self.ended_at:%Y-%m-%d}" if self.ended_at else ""
        return f"user {self.user_id} {self.role} of model {self.model_id}{until}"


class TierChangeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class TierChangeRequest(models.Model):
    """A proposed change to the inputs of a model's tier, decided by a validator or an admin (issue 16 §5).

    Once a model has versions past draft, its tier drives which validation policy applied and how
    often it is reviewed, so lowering it is a model-risk decision, not an edit: the proposer gives a
    reason, someone independent decides, and the model changes only on approval.
    """

    model = models.ForeignKey(InventoryModel, on_delete=models.PROTECT, related_name="tier_changes")
    changes = models.JSONField(help_text="{field: {before, after}} for every tier input that changes")
    tier_before = models.PositiveSmallIntegerField(help_text="the computed tier when proposed")
    tier_after = models.PositiveSmallIntegerField(help_text="the computed tier the change would give")
    rule_version = models.CharField(max_length=32)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=TierChangeStatus.choices, default=TierChangeStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["model"], condition=models.Q(status="pending"),
                                    name="one_pending_tier_change_per_model"),
        ]

    def __str__(self) -> str:
        return f"tier change {self.pk} of {self.model_id} ({self.status})"
