"""What a person may sign on a version now, and why not: the workflow's own rules, read for display.

The service (``governance.services.workflow.version_transition``) enforces every rule again when
the form is posted; this only decides whether to show the form, and the reason when not.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.models import ModelVersion
from governance.roles import has_role
from governance.services.workflow import segregation_violation
from governance.workflow import Transition, transitions_from

# Transitions the validation and approval pages offer (submission is the developer's, via the API).
REVIEW_ACTIONS = ("start_validation", "validate", "request_changes", "reject", "approve", "put_in_use", "retire")


@dataclass(frozen=True)
class Choice:
    transition: Transition
    allowed: bool
    reason: str  # why not, when not allowed

    @property
    def needs_signature(self) -> bool:
        return bool(self.transition.signature_meaning)


def decision_choices(user, version: ModelVersion) -> list[Choice]:
    choices = []
    for transition in transitions_from(version.status):
        if transition.action not in REVIEW_ACTIONS:
            continue
        reasons = []
        if not has_role(user, transition.role):
            reasons.append(f"{transition.action} needs the role {transition.role}")
        violation = segregation_violation(user, version, transition)
        if violation:
            reasons.append(violation)
        choices.append(Choice(transition, not reasons, "; ".join(reasons)))
    return choices
