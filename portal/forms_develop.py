"""Forms of the developer pages (issue 17 §2): register a model, start a training run, submit a version.

The training form's engine settings are generated from the engine's frozen ``Config`` dataclass
(``scenarios.engine_forms.config_schema``); the Config itself (``registry.make_config``) stays the one
judge of a config, here and again in ``training_run_start``.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model

from governance import tiering
from governance.models.inventory import SEMVER, MaterialityPurpose, ModelFamily, RegulatoryUse
from governance.roles import DEVELOPER
from scenarios.engine_forms import ConfigField, ConfigSchema, config_schema
from scenarios.engines.registry import ENGINE_MODULES

CONFIG_PREFIX = "config__"
DEFAULT_ENGINE = "factor_mc"
ENGINE_LABELS = {
    "historical_bootstrap": "Historical bootstrap (block bootstrap of the training days)",
    "hypothetical": "Hypothetical shocks (conditional-Gaussian propagation)",
    "factor_mc": "Factor Monte Carlo (covariance of the training increments)",
    "garch_evt_copula": "GARCH-EVT copula",
    "supervisory": "Supervisory scenario translation (Fed tables)",
    "diffusion": "Diffusion (DDPM/DDIM, deep)",
    "timegan": "TimeGAN (deep)",
    "wgan_gp": "Conditional WGAN-GP (deep)",
    "vae": "VAE (deep)",
    "lstm_transformer": "LSTM-Transformer (deep)",
}
NOT_FINITE = "Enter a finite number: NaN and infinity are refused."


def engine_choices() -> list[tuple[str, str]]:
    return [(name, ENGINE_LABELS.get(name, name)) for name in ENGINE_MODULES]


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# ── register a model ────────────────────────────────────────────────────────────────────────
class ModelRegisterForm(forms.Form):
    """The fields the API's ``ModelInput`` takes (``governance/apis/inventory.py``), for ``model_create``."""

    name = forms.CharField(max_length=200)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="purpose and intended use")
    use_restrictions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text="uses the model must not be put to")
    business_line = forms.CharField(max_length=120)
    family = forms.ChoiceField(choices=ModelFamily.choices)
    vendor = forms.CharField(required=False, max_length=200, help_text="leave empty for a model developed in-house")
    exposure_usd = forms.DecimalField(
        label="Exposure (USD)", max_digits=20, decimal_places=2, min_value=0,
        help_text="how much money the model's output touches; with the purpose it sets the risk tier")
    materiality_purpose = forms.ChoiceField(
        label="Materiality purpose", choices=MaterialityPurpose.choices,
        help_text="what the output is used for; with the exposure it sets the risk tier")
    regulatory_uses = forms.MultipleChoiceField(required=False, choices=RegulatoryUse.choices,
                                                widget=forms.CheckboxSelectMultiple)
    inputs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    outputs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assumptions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    limitations = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="known limitations")
    developers = forms.ModelMultipleChoiceField(
        required=False, queryset=get_user_model().objects.none(),
        help_text="who may train and submit versions; you when none is chosen")
    upstream = forms.ModelMultipleChoiceField(required=False, queryset=None, to_field_name="model_id",
                                              help_text="models whose output this one uses")
    validation_frequency_months = forms.IntegerField(
        label="Validation frequency (months)", required=False, min_value=1, max_value=120,
        help_text="leave empty for the tier's default: tier 1 every 12, tier 2 every 24, tier 3 every 36 months")
    last_validated_on = forms.DateField(required=False, widget=_date_widget(),
                                        help_text="only for a model validated before it was registered here")

    def __init__(self, *args, models=None, **kwargs):
        from governance.models import InventoryModel

        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, groups__name=DEVELOPER).distinct()
        self.fields["developers"].queryset = users.order_by("username")
        self.fields["upstream"].queryset = (models if models is not None
                                            else InventoryModel.objects.all()).order_by("model_id")
        self.fields["upstream"].label_from_instance = lambda m: f"{m.model_id} {m.name}"

    def clean_exposure_usd(self):
        value = self.cleaned_data["exposure_usd"]
        if value is not None and not Decimal(value).is_finite():
            raise forms.ValidationError(NOT_FINITE)
        return value

    def tier_preview(self) -> dict | None:
        """The tier the rule gives the entered exposure and purpose (the service computes it again)."""
        data = getattr(self, "cleaned_data", {})
        exposure, purpose = data.get("exposure_usd"), data.get("materiality_purpose")
        if exposure is None or not purpose:
            return None
        tier = tiering.compute_tier(Decimal(exposure), purpose)
        return {"tier": tier, "band": tiering.exposure_band(Decimal(exposure)),
                "impact": tiering.PURPOSE_IMPACT[purpose], "months": tiering.REVIEW_FREQUENCY_MONTHS[tier],
                "rule": tiering.RULE_VERSION}

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["developers"] = list(data.get("developers") or [])
        data["upstream"] = list(data.get("upstream") or [])
        data["regulatory_uses"] = list(data.get("regulatory_uses") or [])
        for optional in ("validation_frequency_months", "last_validated_on"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data


def tier_matrix() -> dict:
    """``governance.tiering``'s matrix laid out for a table: rows by exposure band, columns by impact."""
    bands = [("high", f"≥ USD {tiering.HIGH_EXPOSURE:,.0f}"), ("medium", f"≥ USD {tiering.MEDIUM_EXPOSURE:,.0f}"),
             ("low", f"< USD {tiering.MEDIUM_EXPOSURE:,.0f}")]
    impacts = [("regulatory", "Regulatory capital or stress testing"),
               ("business", "Risk management or business decisions"), ("informational", "Informational")]
    return {"rule": tiering.RULE_VERSION, "impacts": impacts,
            "rows": [(label, [tiering.MATRIX[(band, impact)] for impact, _ in impacts]) for band, label in bands],
            "months": sorted(tiering.REVIEW_FREQUENCY_MONTHS.items())}


# ── start a training run ────────────────────────────────────────────────────────────────────
def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _finite_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    if isinstance(value, list):
        for item in value:
            _finite_json(item)
    return value


class JSONValueField(forms.CharField):
    """A tuple- or otherwise structured Config value, entered as JSON (a list for a tuple)."""

    def __init__(self, *args, optional: bool = False, **kwargs):
        self.optional = optional
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return _finite_json(json.loads(text, parse_constant=_refuse_constant))
        except ValueError as error:
            raise forms.ValidationError(f"Enter JSON (a list such as [1, 2]) with finite numbers only: {error}.",
                                        code="invalid") from error


def _config_field(field: ConfigField) -> forms.Field:
    label = field.name.replace("_", " ")
    default_text = "none" if field.default is None else json.dumps(
        list(field.default) if isinstance(field.default, tuple) else field.default)
    help_text = (f"{field.help} " if field.help else "") + f"(default {default_text}; {field.annotation})"
    required = not field.optional and field.default is not None and field.kind not in ("bool", "str")
    common = {"label": label, "help_text": help_text, "required": required}
    if field.kind == "bool":
        return forms.BooleanField(initial=bool(field.default), **common)
    if field.kind == "int":
        return forms.IntegerField(initial=field.default, **common)
    if field.kind == "float":
        return forms.FloatField(initial=field.default, error_messages={"invalid": NOT_FINITE}, **common)
    if field.kind == "str":
        common["required"] = bool(field.default)
        return forms.CharField(initial=field.default, max_length=500, **common)
    initial = None if field.default is None else json.dumps(field.default)  # a tuple is written as a list
    return JSONValueField(initial=initial, optional=field.optional, **common)


class TrainingForm(forms.Form):
    """Version label, dataset, windows and seed (``training_run_start``'s arguments), then the engine's
    Config fields, one per dataclass field, named ``config__<field>``."""

    engine = forms.ChoiceField(choices=(), widget=forms.HiddenInput)
    version_label = forms.RegexField(SEMVER.regex, max_length=64, label="Version label",
                                     error_messages={"invalid": SEMVER.message},
                                     help_text="semantic version of the model version this run produces")
    dataset = forms.ModelChoiceField(queryset=None, empty_label=None,
                                     help_text="the market data the engine is fitted on (its training window only)")
    train_start = forms.DateField(label="Training window start", required=False, widget=_date_widget(),
                                  help_text="empty: the dataset's first day")
    train_end = forms.DateField(label="Training window end", widget=_date_widget())
    holdout_start = forms.DateField(label="Holdout start", widget=_date_widget(),
                                    help_text="strictly after the training window ends; validation tests on the "
                                              "holdout, so it must never overlap training")
    holdout_end = forms.DateField(label="Holdout end", required=False, widget=_date_widget(),
                                  help_text="empty: the dataset's last day")
    seed = forms.IntegerField(min_value=0, max_value=2**63 - 1, initial=0,
                              help_text="random seed of the fit (recorded with the version)")

    def __init__(self, *args, engine: str, datasets, **kwargs):
        super().__init__(*args, **kwargs)
        self.engine_name = engine if engine in ENGINE_MODULES else DEFAULT_ENGINE
        self.schema: ConfigSchema = config_schema(self.engine_name)
        self.fields["engine"].choices = engine_choices()
        self.fields["engine"].initial = self.engine_name
        self.fields["dataset"].queryset = datasets
        self.fields["dataset"].label_from_instance = lambda d: (
            f"{d.name} v{d.version} — {d.start_date} → {d.end_date}, {d.n_rows:,} rows, "
            f"factors {', '.join(d.factors)}")
        for field in self.schema.fields:
            self.fields[CONFIG_PREFIX + field.name] = _config_field(field)

    # The template renders the run fields and the engine's settings in two fieldsets.
    def run_fields(self):
        return [self[name] for name in ("version_label", "dataset", "train_start", "train_end", "holdout_start",
                                        "holdout_end", "seed")]

    def config_fields(self):
        return [self[CONFIG_PREFIX + f.name] for f in self.schema.fields]

    def config_errors(self) -> list[str]:
        return list(self.errors.get("config", []))

    def _config_error(self, message: str) -> None:
        """Put a Config's refusal next to the setting it names (else above the settings)."""
        named = [] if message.startswith("unknown config keys") else self.schema.fields
        for field in sorted(named, key=lambda f: -len(f.name)):
            if re.search(rf"(?<![\w]){re.escape(field.name)}(?![\w])", message):
                self.add_error(CONFIG_PREFIX + field.name, message)
                return
        self.errors.setdefault("config", self.error_class()).append(message)

    def clean(self):
        data = super().clean()
        if self.is_bound:
            known = {CONFIG_PREFIX + f.name for f in self.schema.fields}
            unknown = sorted(key[len(CONFIG_PREFIX):] for key in self.data
                             if key.startswith(CONFIG_PREFIX) and key not in known)
            if unknown:
                self._config_error(f"unknown config keys for engine {self.engine_name}: {', '.join(unknown)}; "
                                   f"known: {', '.join(f.name for f in self.schema.fields)}")
        train_start, train_end = data.get("train_start"), data.get("train_end")
        holdout_start, holdout_end = data.get("holdout_start"), data.get("holdout_end")
        if train_start and train_end and train_start > train_end:
            self.add_error("train_start", f"The training window starts ({train_start}) after it ends ({train_end}).")
        if train_end and holdout_start and holdout_start <= train_end:
            self.add_error("holdout_start", f"The holdout ({holdout_start}) must start strictly after the training "
                                            f"window ends ({train_end}): overlapping windows leak the holdout into "
                                            f"training.")
        if holdout_start and holdout_end and holdout_end < holdout_start:
            self.add_error("holdout_end", f"The holdout ends ({holdout_end}) before it starts ({holdout_start}).")
        dataset = data.get("dataset")
        if dataset is not None and holdout_start and holdout_start > dataset.end_date:
            self.add_error("holdout_start", f"The dataset ends on {dataset.end_date}: no holdout data after "
                                            f"{holdout_start}.")
        if not any(name == "config" or name.startswith(CONFIG_PREFIX) for name in self.errors):
            self._check_config()  # each setting parsed: now the engine's Config judges them together
        return data

    def config(self) -> dict:
        """The Config as JSON: every setting entered (an empty optional one is None)."""
        values = {}
        for field in self.schema.fields:
            value = self.cleaned_data.get(CONFIG_PREFIX + field.name)
            if value is None and not field.optional:
                continue  # left to the dataclass default
            if field.kind == "str" and value == "" and field.default:
                continue
            values[field.name] = value
        return values

    def _check_config(self) -> None:
        from scenarios.engines import registry

        try:
            registry.make_config(self.engine_name, self.config())
        except (TypeError, ValueError) as error:
            self._config_error(str(error))

    def apply_service_error(self, error) -> list[str]:
        """A service refusal's field-keyed details next to their field; what names no field goes above."""
        lines = []
        details = error.details if isinstance(error.details, dict) else {}
        placed = False
        for name, problems in details.items():
            problems = problems if isinstance(problems, list | tuple) else [problems]
            for problem in problems:
                if name == "config":
                    self._config_error(str(problem))
                    placed = True
                elif name in self.fields:
                    # The service's message is the fuller one (it names the dates): show it.
                    self.add_error(name, error.message if len(problems) == 1 else str(problem))
                    placed = True
                else:
                    lines.append(f"{name}: {problem}")
        if getattr(error, "code", "") == "duplicate_version":
            self.add_error("version_label", error.message)
            placed = True
        if not placed:
            lines.insert(0, error.message)
        return lines


def next_version_label(labels) -> str:
    """One minor version above the highest semantic version among ``labels`` (1.0.0 for none)."""
    best = None
    for label in labels:
        match = re.match(r"^(\d+)\.(\d+)\.(\d+)", label or "")
        if match:
            key = tuple(int(p) for p in match.groups())
            best = key if best is None or key > best else best
    return "1.0.0" if best is None else f"{best[0]}.{best[1] + 1}.0"


def initial_from_training(run) -> dict:
    """A form's initial values copied from an earlier training run (to train the next version alike)."""
    initial = {"dataset": run.dataset_id, "train_start": run.train_start, "train_end": run.train_end,
               "holdout_start": run.holdout_start, "holdout_end": run.holdout_end, "seed": run.seed}
    for name, value in (run.config or {}).items():
        initial[CONFIG_PREFIX + name] = json.dumps(value) if isinstance(value, list | dict) else value
    return initial


# ── submit / resubmit ───────────────────────────────────────────────────────────────────────
class SubmitForm(forms.Form):
    reason = forms.CharField(label="Note for the validator", required=False,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="optional: what changed, what to look at (recorded with the signature)")
    password = forms.CharField(label="Password (e-signature)", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="your password again: it is your e-signature")

