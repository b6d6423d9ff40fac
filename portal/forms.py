"""Forms for the two things reviewers write: a finding, and a signed decision."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model

from governance.models.review import Severity


class FindingForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    severity = forms.ChoiceField(choices=Severity.choices)
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label=None,
                                   help_text="who remediates it (usually a developer of the model)")
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else get_user_model().objects.none()
        if not self.is_bound:
            self.initial.setdefault("due_date", dt.date.today() + dt.timedelta(days=90))


class DecisionForm(forms.Form):
    action = forms.ChoiceField(widget=forms.RadioSelect)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="required to reject, request changes or retire")
    password = forms.CharField(required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="your password again: it is your e-signature")

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (c.transition.action, f"{c.transition.action.replace('_', ' ')} → {c.transition.target}")
            for c in choices if c.allowed
        ]
