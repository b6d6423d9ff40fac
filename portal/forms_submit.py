"""Forms of the submission preparer's pages (issue 17 §5): documentation options, the packet's report, an upload."""

from __future__ import annotations

from django import forms

from governance.models import RunStatus
from reports.citations import validated_set_ids
from reports.services.documents import DEFAULT_PURPOSES
from scenarios.models import ScenarioSet
from validation.models import ValidationRun


class SetChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ScenarioSet) -> str:
        return f"{obj.name} (set {obj.pk}, purpose {obj.purpose}, {obj.n_scenarios:,} scenarios)"


class RunChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ValidationRun) -> str:
        outcome = obj.outcome or "—"
        return f"validation run {obj.pk} of set {obj.scenario_set_id} ({outcome})"


class DocumentationForm(forms.Form):
    """Which of the version's validated scenario sets and finished validation runs the PDF cites.

    Only validated sets are offered (the service refuses any other); the defaults are the sets of purpose
    ``use`` or ``validation`` (never ``development``) and every finished run of those sets."""

    scenario_sets = SetChoice(queryset=ScenarioSet.objects.none(), widget=forms.CheckboxSelectMultiple,
                              required=False, help_text="validated sets only; development sets are not ticked "
                                                        "by default")
    validation_runs = RunChoice(queryset=ValidationRun.objects.none(), widget=forms.CheckboxSelectMultiple,
                                required=False, help_text="finished validation runs of the version's sets")

    def __init__(self, *args, version, sets, **kwargs):
        sets = list(sets)
        validated = validated_set_ids(sets)
        offered = [s.pk for s in sets if s.pk in validated]
        set_queryset = ScenarioSet.objects.filter(pk__in=offered).order_by("pk")
        run_queryset = ValidationRun.objects.filter(scenario_set_id__in=offered, model_version=version,
                                                    status=RunStatus.SUCCEEDED).order_by("pk")
        default_sets = [s.pk for s in set_queryset if s.purpose in DEFAULT_PURPOSES]
        kwargs.setdefault("initial", {
            "scenario_sets": default_sets,
            "validation_runs": [r.pk for r in run_queryset if r.scenario_set_id in default_sets],
        })
        super().__init__(*args, **kwargs)
        self.fields["scenario_sets"].queryset = set_queryset
        self.fields["validation_runs"].queryset = run_queryset

    def clean(self):
        data = super().clean()
        sets = data.get("scenario_sets")
        runs = data.get("validation_runs")
        if sets is not None and not sets:
            self.add_error("scenario_sets", "Tick at least one validated scenario set to document.")
        if sets and runs:
            chosen = {s.pk for s in sets}
            stray = [r.pk for r in runs if r.scenario_set_id not in chosen]
            if stray:
                self.add_error("validation_runs", "These runs validate sets you did not tick: "
                                                  + ", ".join(f"run {pk}" for pk in stray) + ".")
        return data


class PacketForm(forms.Form):
    """The finished report a submission packet is built around."""

    report = forms.ModelChoiceField(queryset=None, empty_label=None,
                                    help_text="a finished documentation PDF of this version")

    def __init__(self, *args, reports, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].queryset = reports
        self.fields["report"].label_from_instance = lambda r: (
            f"report {r.pk} — {r.pages or '?'} pages, {r.created_at:%Y-%m-%d %H:%M}")


class VerifyPacketForm(forms.Form):
    packet = forms.FileField(label="Packet (.zip)", help_text="the submission packet's zip, as downloaded")
