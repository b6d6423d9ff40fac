"""The version page's documents block (``templates/portal/submit/_version_documents.html``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def submit_documents(context, version) -> dict:
    """The version's reports and packets the signed-in user may see, and the forms they may use."""
    from portal.views.submit import documents_context

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return documents_context(user, version)
