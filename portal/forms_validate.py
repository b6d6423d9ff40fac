"""Forms of the validator pages (issue 17 §3): validation sets, validation and stress runs, the findings register.

Every form is checked here first (field errors next to the field, status 400); the services check again and
have the last word (their refusals are shown above the form).
"""

from __future__ import annotations

import functools
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from governance.models import InventoryModel
from governance.models.review import FindingStatus, Severity
from scenarios.engines.base import SEVERITIES
from scenarios.services.runs import MAX_HORIZON
from validation import suite

# A page generates at most this many paths (the API allows more; a person waiting on a page does not need them).
PAGE_MAX_SCENARIOS = 100_000
UNCONDITIONED = "unconditioned"
SUPERVISORY_PREFIX = "supervisory:"
STRESS_LEVELS = (("0.99,0.995", "99 % and 99.5 %"), ("0.95,0.99,0.995", "95 %, 99 % and 99.5 %"),
                 ("0.99", "99 % only"))


@functools.lru_cache(maxsize=8)
def _fed_scenarios(directory: str, mtime: float) -> tuple[tuple[str, str], ...]:
    """(edition, scenario) of every domestic supervisory table but the historic one (read once per directory)."""
    from scenarios.services.fed import fed_tables

    keys = sorted(fed_tables(directory))
    return tuple((edition, scenario) for edition, scenario, region in (k.split("/") for k in keys)
                 if region == "domestic" and scenario != "historic")


def fed_scenarios() -> tuple[tuple[str, str], ...]:
    directory = Path(settings.CRUCIBLE_FED_DIR)
    try:
        mtime = directory.stat().st_mtime
    except OSError:
        return ()
    try:
        return _fed_scenarios(str(directory), mtime)
    except Exception:  # noqa: BLE001 - unreadable tables: the form offers no supervisory condition, says why
        return ()


def condition_choices(engine: str) -> list[tuple[str, str]]:
    """The conditions a version of ``engine`` supports: the supervisory engine only the Fed's published
    scenarios (it needs a quarterly path); every other engine unconditioned and each severity word."""
    fed = [(f"{SUPERVISORY_PREFIX}{edition}:{scenario}",
            f"Fed supervisory {scenario.replace('_', ' ')} ({edition})") for edition, scenario in fed_scenarios()]
    if engine == "supervisory":
        return fed
    return [(UNCONDITIONED, "Unconditioned (judged against the holdout)"),
            *((s, f"Severity: {s}") for s in SEVERITIES)]


def condition_from_choice(choice: str) -> dict | None:
    """The service's condition for a form choice (``scenarios.services.runs.parse_condition`` checks it)."""
    if choice == UNCONDITIONED:
        return None
    if choice.startswith(SUPERVISORY_PREFIX):
        edition, scenario = choice[len(SUPERVISORY_PREFIX):].split(":", 1)
        return {"supervisory": {"edition": edition, "scenario": scenario}}
    return {"severity": choice}


class GenerateSetForm(forms.Form):
    condition = forms.ChoiceField(help_text="what the scenarios are conditioned on; each choice makes one set")
    n_scenarios = forms.IntegerField(label="Number of scenarios", min_value=1, max_value=PAGE_MAX_SCENARIOS,
                                     initial=10_000, help_text=f"paths to draw (1–{PAGE_MAX_SCENARIOS:,})")
    horizon = forms.IntegerField(label="Horizon (trading days)", min_value=1, max_value=MAX_HORIZON, initial=20,
                                 help_text=f"days per path (1–{MAX_HORIZON})")
    seed = forms.IntegerField(min_value=0, max_value=2**63 - 1, initial=0,
                              help_text="the same seed, size and condition draw the same paths again")

    def __init__(self, *args, engine: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choices = condition_choices(engine)
        self.fields["condition"].choices = choices
        if engine == "supervisory":
            self.fields["horizon"].initial = 63
        if choices and not self.is_bound:
            self.initial.setdefault("condition", choices[0][0])


class StartValidationForm(forms.Form):
    tiers = forms.MultipleChoiceField(
        choices=[(t, t.replace("_", " ")) for t in suite.TIERS], required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="leave all unticked for the suite's default tiers for this kind of set")
    seed = forms.IntegerField(min_value=0, max_value=2**63 - 1, initial=0,
                              help_text="seed of the resampled noise floors and the neural scores")


class StressForm(forms.Form):
    portfolio = forms.ModelChoiceField(queryset=None, empty_label=None,
                                       help_text="only portfolios whose risk factors the set has")
    levels = forms.ChoiceField(label="VaR / ES levels", choices=STRESS_LEVELS)
    k = forms.IntegerField(label="Worst scenarios to keep", min_value=1, max_value=100, initial=10)

    def __init__(self, *args, portfolios=None, **kwargs):
        super().__init__(*args, **kwargs)
        from scenarios.models import Portfolio

        self.fields["portfolio"].queryset = portfolios if portfolios is not None else Portfolio.objects.none()

    def clean_levels(self) -> list[float]:
        return [float(q) for q in self.cleaned_data["levels"].split(",")]


SORTS = (("due", "due date, soonest first"), ("-due", "due date, latest first"))


class FindingFilterForm(forms.Form):
    """The register's filters (GET); an invalid value is a field error, never a silent 'any'."""

    severity = forms.ChoiceField(choices=[("", "any"), *Severity.choices], required=False)
    status = forms.ChoiceField(choices=[("", "any"), ("open_any", "open or remediated"), *FindingStatus.choices],
                               required=False)
    model = forms.ModelChoiceField(queryset=InventoryModel.objects.none(), required=False, empty_label="any",
                                   to_field_name="model_id")
    owner = forms.ModelChoiceField(label="Model owner", queryset=get_user_model().objects.none(), required=False,
                                   empty_label="any", to_field_name="username")
    assignee = forms.ModelChoiceField(label="Remediation owner", queryset=get_user_model().objects.none(),
                                      required=False, empty_label="any", to_field_name="username")
    # Overdue: the due date has passed and the finding is neither closed nor risk-accepted (said on the page).
    overdue = forms.BooleanField(label="Overdue only", required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)

    def __init__(self, *args, models=None, owners=None, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects
        self.fields["model"].queryset = models if models is not None else InventoryModel.objects.none()
        self.fields["owner"].queryset = owners if owners is not None else users.none()
        self.fields["assignee"].queryset = assignees if assignees is not None else users.none()


class RemediateForm(forms.Form):
    remediation_notes = forms.CharField(label="Remediation notes", widget=forms.Textarea(attrs={"rows": 4}),
                                        help_text="what was changed, and where the validator can verify it")


RESOLUTIONS = (("close", "Close: the remediation is verified"), ("accept_risk", "Accept the residual risk"))


class ResolveForm(forms.Form):
    """Close a finding (validator) or accept its risk (approver), signed with the password."""

    action = forms.ChoiceField(widget=forms.RadioSelect)
    resolution = forms.CharField(label="Resolution", widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="why it is closed, or why the risk is acceptable")
    password = forms.CharField(label="Password (e-signature)", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="your password again: it is your e-signature")

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a, label) for a, label in RESOLUTIONS if a in actions]
        if len(self.fields["action"].choices) == 1 and not self.is_bound:
            self.initial["action"] = self.fields["action"].choices[0][0]
