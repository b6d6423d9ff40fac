"""Sign in and out: Django's auth views with the portal's templates and the one login guard."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from portal.lockout import GuardedAuthenticationForm


class SignInView(auth_views.LoginView):
    """Failures, refusals and the sign-in itself are audited by the form (governance.services.login_guard)."""

    template_name = "portal/login.html"
    authentication_form = GuardedAuthenticationForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django 5); goes back to the sign-in page (LOGOUT_REDIRECT_URL)."""
