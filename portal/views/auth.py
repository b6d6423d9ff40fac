"""Sign in and out: Django's auth views with the portal's templates and a failure throttle."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction

from governance.services.audit import audit_record
from portal import lockout


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = AuthenticationForm.error_messages | {
        "locked": "Too many failed sign-ins for this user from your address. Try again in %(minutes)d minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = lockout.client_address(self.request)
        if lockout.is_locked(username, address):
            lockout.record_refusal(username, address)
            raise forms.ValidationError(self.error_messages["locked"], code="locked",
                                        params={"minutes": max(1, lockout.window_seconds() // 60)})
        try:
            return super().clean()
        except forms.ValidationError:
            lockout.record_failure(username, address)
            raise


class SignInView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        address = lockout.client_address(self.request)
        lockout.clear(user.get_username(), address)
        response = super().form_valid(form)
        with transaction.atomic():
            audit_record(actor=user, action="auth.login", object_type="user", object_id=user.pk,
                         after={"address": address})
        return response


class SignOutView(auth_views.LogoutView):
    """POST only (Django 5); goes back to the sign-in page (LOGOUT_REDIRECT_URL)."""
