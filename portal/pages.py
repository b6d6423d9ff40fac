"""How every page answers: sign-in redirect, role checks, and application errors as 403/404 pages.

Views stay thin: they call the same services and selectors as the API, and errors those raise
(``governance.errors``) become the matching error page here, never a 500.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from governance.errors import ApplicationError, Forbidden
from governance.roles import user_roles


def error_page(request, error: ApplicationError, status: int | None = None):
    status = status or error.status_code
    titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 400: "Not valid"}
    return render(request, "portal/error.html", {"title": titles.get(status, "Error"), "error": error},
                  status=status)


def page(*roles: str) -> Callable:
    """Decorate a view: anonymous → sign-in; no platform role (or none of ``roles``) → 403;
    ``NotFound``/``Forbidden``/``Conflict``/``InvalidInput`` from services → their error page."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            held = user_roles(request.user)
            wanted = set(roles) if roles else None
            if not held or (wanted and not held & wanted):
                needed = " or ".join(roles) if roles else "a platform role"
                return error_page(request, Forbidden(f"This page needs the role {needed}.", code="missing_role"))
            request.roles = held
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as error:
                return error_page(request, error)

        return wrapped

    return decorate


def form_errors(error: ApplicationError) -> list[str]:
    """An application error as lines to show above a form."""
    lines = [error.message]
    if isinstance(error.details, dict):
        for name, problems in error.details.items():
            if isinstance(problems, list | tuple):
                lines.extend(f"{name}: {p}" for p in problems)
    return lines
