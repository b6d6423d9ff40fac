"""The version workflow as data: every allowed transition, who may take it, what it signs.

    draft ──submit──▶ submitted ──start_validation──▶ in_validation ──validate──▶ validated
      ▲                   ▲                              │    │                      │
      │                   └──resubmit── changes_requested◀┘    └─reject─▶ rejected ◀─┤reject
                                                                                      │approve
    retired ◀──retire── in_use ◀──put_in_use── approved ◀─────────────────────────────┘
       ▲                                          │
       └──────────────────retire──────────────────┘

``governance.services.workflow.version_transition`` is the only code that changes a version's
status; it looks the transition up here and refuses anything else with a 409.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.models.inventory import VersionStatus as S
from governance.roles import APPROVER, DEVELOPER, VALIDATOR


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    role: str
    # The meaning shown to and recorded for the signer; None: no e-signature is required.
    signature_meaning: str | None


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", S.DRAFT, S.SUBMITTED, DEVELOPER, "submitted for independent validation as developer"),
    Transition("resubmit", S.CHANGES_REQUESTED, S.SUBMITTED, DEVELOPER,
               "resubmitted for independent validation as developer"),
    Transition("start_validation", S.SUBMITTED, S.IN_VALIDATION, VALIDATOR, None),
    Transition("validate", S.IN_VALIDATION, S.VALIDATED, VALIDATOR, "validated as independent validator"),
    Transition("request_changes", S.IN_VALIDATION, S.CHANGES_REQUESTED, VALIDATOR, "changes requested as validator"),
    Transition("reject", S.IN_VALIDATION, S.REJECTED, VALIDATOR, "rejected as validator"),
    Transition("approve", S.VALIDATED, S.APPROVED, APPROVER, "approved for use as approver"),
    Transition("reject", S.VALIDATED, S.REJECTED, APPROVER, "rejected as approver"),
    Transition("put_in_use", S.APPROVED, S.IN_USE, APPROVER, None),
    Transition("retire", S.APPROVED, S.RETIRED, APPROVER, "retired as approver"),
    Transition("retire", S.IN_USE, S.RETIRED, APPROVER, "retired as approver"),
)

_BY_KEY = {(t.action, t.source): t for t in TRANSITIONS}
ACTIONS = tuple(sorted({t.action for t in TRANSITIONS}))

# Statuses in which a version may generate scenarios for use, and in which it may be edited.
USABLE_STATUSES = (S.APPROVED, S.IN_USE)
EDITABLE_STATUSES = (S.DRAFT, S.CHANGES_REQUESTED)


def find_transition(action: str, source: str) -> Transition | None:
    return _BY_KEY.get((action, source))


def transitions_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]


def sources_of(action: str) -> list[str]:
    return [t.source for t in TRANSITIONS if t.action == action]
