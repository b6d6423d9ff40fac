"""The sign-in forms of every HTML door (portal, admin, browsable API) under the one login guard.

The policy, its counters and its audit live in the bottom layer (``governance.services.login_guard``),
shared with the token endpoint and e-signatures; this module only adapts Django's authentication
forms to it.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from governance.services import login_guard


class GuardedFormMixin:
    """Refuses a locked-out username/address before checking the password, counts wrong passwords,
    and audits the sign-in when the credentials are accepted."""

    door = "portal"

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = login_guard.client_address(self.request)
        try:
            login_guard.login_check(door=self.door, username=username, address=address)
        except login_guard.LockedOut as locked:
            raise forms.ValidationError(locked.message, code="locked") from None
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # user_cache is set when the password was right but the account may not use this door
            # (inactive, not staff): that is no guess, so it is not counted.
            if self.user_cache is None and username and self.cleaned_data.get("password"):
                login_guard.login_failed(door=self.door, username=username, address=address)
            raise
        if self.user_cache is not None:
            login_guard.login_succeeded(door=self.door, user=self.user_cache, address=address)
        return cleaned


class GuardedAuthenticationForm(GuardedFormMixin, AuthenticationForm):
    door = "portal"


class GuardedApiAuthenticationForm(GuardedFormMixin, AuthenticationForm):
    door = "api-auth"


class GuardedAdminAuthenticationForm(GuardedFormMixin, AdminAuthenticationForm):
    door = "admin"
