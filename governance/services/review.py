"""Findings (effective challenge) and evidence pushed down by the apps above governance."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.access import independence_conflict, is_version_developer, require_any_role
from governance.canonical import jsonable
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Evidence, Finding, ModelVersion
from governance.models.inventory import VersionStatus
from governance.models.review import OPEN_FINDING_STATUSES, EvidenceKind, FindingStatus, Outcome, Severity
from governance.roles import ADMIN, APPROVER, DEVELOPER, VALIDATOR
from governance.services.audit import audit_record


def finding_snapshot(finding: Finding) -> dict[str, Any]:
    return jsonable({
        "version": finding.version_id, "title": finding.title, "description": finding.description,
        "severity": finding.severity, "status": finding.status, "raised_by": finding.raised_by_id,
        "owner": finding.owner_id, "due_date": finding.due_date, "remediation_notes": finding.remediation_notes,
        "resolution": finding.resolution,
    })


@transaction.atomic
def finding_raise(
    *, actor, version: ModelVersion, title: str, description: str, severity: str, owner, due_date: dt.date
) -> Finding:
    """A validator (independent of the version) raises a finding."""
    require_any_role(actor, VALIDATOR)
    conflict = independence_conflict(actor, version)
    if conflict:
        raise Forbidden(f"{conflict} cannot raise validation findings on it", code="segregation_of_duties")
    if version.status == VersionStatus.DRAFT:
        raise Conflict("findings are raised on versions submitted for validation, not on drafts")
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [f"one of {', '.join(Severity.values)}"]
    if not (title or "").strip():
        errors["title"] = ["this field is required"]
    if not (description or "").strip():
        errors["description"] = ["this field is required"]
    if errors:
        raise InvalidInput("the finding is not valid", details=errors)
    finding = Finding.objects.create(
        version=version, title=title.strip(), description=description.strip(), severity=severity,
        raised_by=actor, owner=owner, due_date=due_date,
    )
    audit_record(actor=actor, action="finding.raised", object_type="finding", object_id=finding.pk,
                 after=finding_snapshot(finding))
    return finding


def _transition_finding(*, actor, finding: Finding, status: str, action: str, **changes: Any) -> Finding:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    before = finding_snapshot(finding)
    for name, value in changes.items():
        setattr(finding, name, value)
    finding.status = status
    finding.save()
    audit_record(actor=actor, action=f"finding.{action}", object_type="finding", object_id=finding.pk,
                 before=before, after=finding_snapshot(finding), reason=changes.get("resolution", ""))
    return finding


@transaction.atomic
def finding_remediate(*, actor, finding: Finding, remediation_notes: str) -> Finding:
    """The finding's owner or a developer of the version records the remediation."""
    require_any_role(actor, DEVELOPER, VALIDATOR, APPROVER, ADMIN)
    if not (finding.owner_id == actor.pk or is_version_developer(actor, finding.version)):
        raise Forbidden("only the finding's owner or a developer of the version may record remediation")
    if finding.status not in OPEN_FINDING_STATUSES:
        raise Conflict(f"finding #{finding.pk} is {finding.status}; remediation applies to open findings")
    if not (remediation_notes or "").strip():
        raise InvalidInput("remediation notes are required", details={"remediation_notes": ["required"]})
    return _transition_finding(actor=actor, finding=finding, status=FindingStatus.REMEDIATED, action="remediated",
                               remediation_notes=remediation_notes.strip())


# Closing a finding and accepting its risk are decisions someone answers for: e-signed like version decisions
# (21 CFR Part 11 style — password re-entry under the one lock-out policy, meaning recorded, bound to the state).
SIGNATURE_MEANINGS = {"closed": "closed as independent validator", "risk_accepted": "risk accepted as approver"}


def _signed_resolution(*, actor, finding: Finding, password: str, status: str, action: str, resolution: str) -> Finding:
    if not password:
        raise InvalidInput("an e-signature needs your password", details={"password": ["required to sign"]})
    from governance.services.login_guard import signature_password_check

    signature_password_check(actor=actor, password=password)  # a refusal is audited by _refusal_recorded
    finding = _transition_finding(actor=actor, finding=finding, status=status, action=action,
                                  resolution=resolution.strip())
    state = finding_snapshot(finding)
    audit_record(actor=actor, action="finding.signed", object_type="finding", object_id=finding.pk,
                 after={"action": action, "meaning": SIGNATURE_MEANINGS[action], "signer": actor.get_username(),
                        "signed_at": timezone.now(), "status": finding.status, "signed_fields": state},
                 reason=resolution.strip())
    return finding


def finding_close(*, actor, finding: Finding, resolution: str, password: str) -> Finding:
    """A validator (not a developer) verifies the remediation and closes the finding, e-signed."""
    with _refusal_recorded(actor, finding, "close"), transaction.atomic():
        require_any_role(actor, VALIDATOR)
        conflict = independence_conflict(actor, finding.version)
        if conflict:
            raise Forbidden(f"{conflict} cannot close its findings", code="segregation_of_duties")
        if finding.status not in OPEN_FINDING_STATUSES:
            raise Conflict(f"finding #{finding.pk} is already {finding.status}")
        if not (resolution or "").strip():
            raise InvalidInput("closing a finding needs a resolution", details={"resolution": ["required"]})
        return _signed_resolution(actor=actor, finding=finding, password=password, status=FindingStatus.CLOSED,
                                  action="closed", resolution=resolution)


def finding_accept_risk(*, actor, finding: Finding, resolution: str, password: str) -> Finding:
    """An approver (not a developer) accepts the residual risk of a finding, with a reason, e-signed."""
    with _refusal_recorded(actor, finding, "accept_risk"), transaction.atomic():
        require_any_role(actor, APPROVER)
        conflict = independence_conflict(actor, finding.version)
        if conflict:
            raise Forbidden(f"{conflict} cannot accept risk on it", code="segregation_of_duties")
        if finding.status not in OPEN_FINDING_STATUSES:
            raise Conflict(f"finding #{finding.pk} is already {finding.status}")
        if not (resolution or "").strip():
            raise InvalidInput("accepting a risk needs a reason", details={"resolution": ["required"]})
        return _signed_resolution(actor=actor, finding=finding, password=password,
                                  status=FindingStatus.RISK_ACCEPTED, action="risk_accepted", resolution=resolution)


@contextmanager
def _refusal_recorded(actor, finding: Finding, action: str):
    """A wrong password rolls the decision back, then is audited in a transaction of its own."""
    try:
        yield
    except Forbidden as error:
        if error.code == "signature_refused":
            with transaction.atomic():
                audit_record(actor=actor, action="signature.refused", object_type="finding", object_id=finding.pk,
                             after={"action": action}, reason="wrong password")
        raise


@transaction.atomic
def evidence_attach(
    *, actor, version: ModelVersion, kind: str, source: str, outcome: str = Outcome.NA,
    summary: dict | None = None, sha256: str = "",
) -> Evidence:
    """Record a fact about a version from a higher app (validation, reports). Idempotent per source."""
    if kind not in EvidenceKind.values:
        raise InvalidInput(f"unknown evidence kind {kind!r}", details={"kind": [", ".join(EvidenceKind.values)]})
    if outcome not in Outcome.values:
        raise InvalidInput(f"unknown outcome {outcome!r}", details={"outcome": [", ".join(Outcome.values)]})
    if not (source or "").strip():
        raise InvalidInput("evidence needs its source", details={"source": ["required"]})
    summary = jsonable(summary or {})
    existing = Evidence.objects.filter(version=version, source=source).first()
    if existing is not None:
        if (existing.kind, existing.outcome, existing.summary, existing.sha256) == (kind, outcome, summary, sha256):
            return existing
        raise Conflict(f"evidence from {source} is already recorded with other content", code="evidence_conflict")
    evidence = Evidence.objects.create(version=version, kind=kind, source=source, outcome=outcome,
                                       summary=summary, sha256=sha256, created_by=actor)
    audit_record(actor=actor, action="evidence.attached", object_type="evidence", object_id=evidence.pk,
                 after={"version": version.pk, "kind": kind, "source": source, "outcome": outcome,
                        "sha256": sha256, "summary": summary})
    return evidence
