"""What the developer may do on a version or model page (``templates/portal/develop/_*_actions.html``)."""

from __future__ import annotations

from django import template

register = template.Library()


def _user(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@register.simple_tag(takes_context=True)
def develop_version_actions(context, version) -> dict:
    """``{"submit": "submit"|"resubmit"|"", "submit_refusal": str, "train": bool}`` for the signed-in user.

    ``train``: the user may train a next version of the version's model (the link copies this version's
    engine, settings, dataset and windows)."""
    from governance.roles import DEVELOPER, has_role
    from portal.views.develop import SUBMIT_ACTIONS, submit_refusal, train_refusal

    user = _user(context)
    if user is None or not has_role(user, DEVELOPER):
        return {"submit": "", "submit_refusal": "", "train": False}
    refusal = submit_refusal(user, version)
    return {"submit": "" if refusal else SUBMIT_ACTIONS[version.status],
            "submit_refusal": refusal if version.status in SUBMIT_ACTIONS else "",
            "train": not train_refusal(user, version.model)}


@register.simple_tag(takes_context=True)
def develop_model_actions(context, model) -> dict:
    """``{"train": bool, "register": bool}`` for the signed-in user."""
    from portal.views.develop import register_refusal, train_refusal

    user = _user(context)
    if user is None:
        return {"train": False, "register": False}
    return {"train": not train_refusal(user, model), "register": not register_refusal(user)}
