"""What a report or packet may cite: only scenario sets that have been validated (issue 15 §1).

A stress figure in a regulatory document is worth what the evidence behind its scenarios is worth, so
every scenario set a report or packet cites must have a SUCCEEDED validation run of its own (an
unconditioned set judged against the holdout; a conditioned set judged for conformance to its
condition, plausibility and coherence). The validation run's outcome, FAIL included, is shown next to
the figure; a set with no validation run at all cannot be cited.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from governance.errors import Conflict
from governance.models import RunStatus
from governance.services.audit import audit_record
from scenarios.models import ScenarioSet
from validation.models import ValidationRun


def validated_set_ids(scenario_sets: Iterable[ScenarioSet]) -> set[int]:
    ids = [s.pk for s in scenario_sets]
    return set(ValidationRun.objects.filter(scenario_set_id__in=ids, status=RunStatus.SUCCEEDED)
               .values_list("scenario_set_id", flat=True))


def unvalidated_sets(scenario_sets: Iterable[ScenarioSet]) -> list[ScenarioSet]:
    scenario_sets = list(scenario_sets)
    validated = validated_set_ids(scenario_sets)
    return [s for s in scenario_sets if s.pk not in validated]


def require_validated(*, actor, scenario_sets: Iterable[ScenarioSet], what: str, object_type: str,
                      object_id: int | None = None, action: str | None = None) -> None:
    """Refuse (409, audited as ``action``, default ``<object_type>.refused``) when any cited set has no SUCCEEDED
    validation run; the message names them."""
    missing = unvalidated_sets(scenario_sets)
    if not missing:
        return
    names = "; ".join(f"scenario set {s.pk} ({s.name})" for s in missing)
    message = (f"{what} cites scenario sets that have not been validated: {names}. Run a validation on each "
               f"(POST /api/v1/validation-runs/) before citing it.")
    # The refusal is evidence too; recorded in its own transaction so it survives the caller's rollback.
    with transaction.atomic():
        audit_record(actor=actor, action=action or f"{object_type}.refused", object_type=object_type,
                     object_id=object_id,
                     after={"unvalidated_scenario_sets": [s.pk for s in missing]}, reason=message[:500])
    raise Conflict(message, code="unvalidated_scenario_set", details={"scenario_sets": [s.pk for s in missing]})
