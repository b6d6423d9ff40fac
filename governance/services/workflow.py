"""The one service that moves a model version through the workflow (governance.workflow).

Segregation of duties (SR 11-7 "effective challenge"), enforced here for every caller:
- only a developer of the version submits it;
- nobody who is not independent of the model (its owner, registrant, current or former developers:
  ``governance.access.independence_conflict``) validates, decides, approves or signs for it;
- only the assigned validator decides;
- the approver is neither a developer, nor the validator, nor the person who submitted it;
- a user without the transition's role gets 403. A superuser without the role may act only with
  an explicit override reason, which is audited; segregation of duties applies to them as well.
Signed transitions need the signer's password again (e-signature, 21 CFR Part 11 §11.200).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.access import independence_conflict, is_version_developer
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Evidence, Finding, ModelVersion, Signature
from governance.models.inventory import ModelStatus, VersionRole, VersionStatus
from governance.models.review import OPEN_FINDING_STATUSES, EvidenceKind, Outcome, Severity
from governance.roles import ADMIN, APPROVER, has_role
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create
from governance.services.inventory import checkpoint_provenance_problem, next_validation_due, version_snapshot
from governance.signatures import signature_is_bound, signed_state, state_hash
from governance.workflow import Transition, find_transition, sources_of

# What the model record's status becomes when one of its versions enters a status.
MODEL_STATUS_FOR = {
    VersionStatus.IN_VALIDATION: ModelStatus.IN_VALIDATION,
    VersionStatus.APPROVED: ModelStatus.APPROVED,
    VersionStatus.IN_USE: ModelStatus.IN_USE,
}


def _lookup(version: ModelVersion, action: str) -> Transition:
    transition = find_transition(action, version.status)
    if transition is None:
        allowed = sources_of(action)
        if not allowed:
            raise InvalidInput(f"unknown workflow action {action!r}", details={"action": ["unknown action"]})
        raise Conflict(
            f"cannot {action} a version in status {version.status}; {action} is allowed from: {', '.join(allowed)}",
            code="illegal_transition",
            details={"status": version.status, "action": action, "allowed_from": allowed},
        )
    return transition


def _check_role(actor, transition: Transition, override_reason: str) -> str:
    """Returns the audit reason prefix for a superuser override, or ''."""
    if has_role(actor, transition.role):
        return ""
    if actor.is_superuser and override_reason.strip():
        return f"superuser override without role {transition.role}: {override_reason.strip()}"
    raise Forbidden(f"{transition.action} needs the role {transition.role}", code="missing_role")


def segregation_violation(actor, version: ModelVersion, transition: Transition) -> str | None:
    """Why ``actor`` may not take ``transition`` on ``version`` for reasons of independence.

    Who is independent of the model is one rule, ``governance.access.independence_conflict``
    (owner, registrant, current and former developers); the rest here is who is who within the
    workflow (the assigned validator decides; validator, submitter and approver are three people)."""
    if transition.action in ("submit", "resubmit"):
        return None if is_version_developer(actor, version) else "only a developer of this version may submit it"
    conflict = independence_conflict(actor, version)
    if conflict:
        return f"{conflict} cannot take part in its validation or approval"
    if transition.action == "start_validation":
        return None
    if transition.source == VersionStatus.IN_VALIDATION:
        if version.validator_id != actor.pk:
            return "only the validator assigned to this version may record the validation decision"
        return None
    if version.validator_id == actor.pk:
        return "the validator of this version cannot also approve, reject or retire it"
    if version.submitted_by_id == actor.pk:
        return "nobody approves their own submission"
    return None


def _preconditions(version: ModelVersion, transition: Transition) -> None:
    if transition.action in ("submit", "resubmit") and not version.checkpoint_sha256:
        raise Conflict("cannot submit a version with no checkpoint recorded", code="precondition_failed")
    if transition.action in ("submit", "resubmit"):
        problem = checkpoint_provenance_problem(version)
        if problem:
            raise Conflict(f"cannot {transition.action}: {problem}", code="checkpoint_unknown",
                           details={"checkpoint_sha256": [problem]})
    if transition.action in ("validate", "approve"):
        passing = Evidence.objects.filter(
            version=version, kind=EvidenceKind.VALIDATION_RUN, outcome__in=[Outcome.PASS, Outcome.WARN]
        )
        if not passing.exists():
            raise Conflict(
                f"cannot {transition.action}: no validation run evidence with outcome PASS or WARN",
                code="precondition_failed",
            )
    if transition.action == "approve":
        high = Finding.objects.filter(version=version, severity=Severity.HIGH, status__in=OPEN_FINDING_STATUSES)
        if high.exists():
            titles = [f"#{f.pk} {f.title}" for f in high]
            raise Conflict(
                "cannot approve a version with open high-severity findings: " + "; ".join(titles),
                code="open_high_findings", details={"findings": [f.pk for f in high]},
            )
        current = state_hash(version)
        decision = version.signatures.filter(action="validate").order_by("-signed_at", "-id").first()
        if decision is None or not signature_is_bound(decision, current):
            raise Conflict(
                "cannot approve: the validator's signature does not match the version as it is now",
                code="signature_broken",
            )


def _sign(*, actor, version: ModelVersion, transition: Transition, password: str, reason: str) -> Signature:
    if not password:
        raise InvalidInput("an e-signature needs your password", details={"password": ["required to sign"]})
    # The one lock-out policy of every password door (issue 16 §3): per signer and per address.
    from governance.services.login_guard import signature_password_check

    signature_password_check(actor=actor, password=password)
    state = signed_state(version)
    signature = Signature.objects.create(
        version=version, signer=actor, signer_username=actor.get_username(), role=transition.role,
        action=transition.action, meaning=transition.signature_meaning, from_status=transition.source,
        to_status=transition.target, reason=reason, signed_at=timezone.now(),
        record_sha256=state_hash(version), signed_fields=state,
    )
    audit_record(
        actor=actor, action="signature.created", object_type="signature", object_id=signature.pk,
        after={"version": version.pk, "meaning": signature.meaning, "action": signature.action,
               "signed_at": signature.signed_at, "record_sha256": signature.record_sha256},
        reason=reason,
    )
    return signature


def _record_refused_signature(actor, version: ModelVersion, action: str) -> None:
    # Kept even though the transition fails: repeated wrong passwords are a security event.
    with transaction.atomic():
        audit_record(actor=actor, action="signature.refused", object_type="model_version", object_id=version.pk,
                     after={"action": action}, reason="wrong password")


def version_transition(
    *, actor, version: ModelVersion, action: str, password: str = "", reason: str = "", override_reason: str = ""
) -> ModelVersion:
    """Take a workflow action on a version. Returns the version in its new status."""
    try:
        return _transition(actor=actor, version=version, action=action, password=password, reason=reason,
                           override_reason=override_reason)
    except Forbidden as error:
        if error.code == "signature_refused":
            _record_refused_signature(actor, version, action)
        raise


@transaction.atomic
def _transition(*, actor, version, action, password, reason, override_reason) -> ModelVersion:
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    transition = _lookup(version, action)
    override = _check_role(actor, transition, override_reason)
    violation = segregation_violation(actor, version, transition)
    if violation:
        raise Forbidden(violation, code="segregation_of_duties")
    if transition.action in ("reject", "request_changes", "retire") and not reason.strip():
        raise InvalidInput(f"{transition.action} needs a reason", details={"reason": ["this field is required"]})
    _preconditions(version, transition)

    before = version_snapshot(version)
    signature = None
    if transition.signature_meaning:
        signature = _sign(actor=actor, version=version, transition=transition, password=password, reason=reason)
    version.status = transition.target
    if transition.action in ("submit", "resubmit"):
        version.submitted_by = actor
    elif transition.action == "start_validation":
        version.validator = actor
    elif transition.action == "approve":
        version.approver = actor
    version.save()
    audit_record(
        actor=actor, action=f"version.{transition.action}", object_type="model_version", object_id=version.pk,
        before=before, after=version_snapshot(version) | {"signature": signature.pk if signature else None},
        reason="; ".join(r for r in (reason.strip(), override) if r),
    )
    _follow_on_model(actor=actor, version=version, transition=transition)
    if transition.action == "approve":
        # Every approval seals the chain head so far with the platform's key.
        audit_checkpoint_create(actor=actor, reason=f"approval of {version} (version {version.pk})")
    return version


def _follow_on_model(*, actor, version: ModelVersion, transition: Transition) -> None:
    model = version.model
    before = {"status": model.status, "last_validated_on": model.last_validated_on,
              "next_validation_due": model.next_validation_due}
    if transition.target in MODEL_STATUS_FOR:
        model.status = MODEL_STATUS_FOR[transition.target]
    if transition.action == "validate":
        model.last_validated_on = timezone.localdate()
        model.next_validation_due = next_validation_due(model)
    if transition.action == "retire" and not model.versions.filter(
        status__in=[VersionStatus.APPROVED, VersionStatus.IN_USE]
    ).exclude(pk=version.pk).exists():
        model.status = ModelStatus.RETIRED
    after = {"status": model.status, "last_validated_on": model.last_validated_on,
             "next_validation_due": model.next_validation_due}
    if after != before:
        model.save(update_fields=["status", "last_validated_on", "next_validation_due", "updated_at"])
        audit_record(actor=actor, action="model.status_followed_version", object_type="model",
                     object_id=model.model_id, before=before, after=after,
                     reason=f"version {version.version} {transition.action}")


# ── version roles (champion / challenger / benchmark, issue 15 §4) ───────────────────────────
# Which statuses each role may be given: a champion or challenger produces figures that are used,
# so it must be signed into use (approved or in use); a benchmark is only compared against, so a
# validated version may serve as one. Clearing a role ("") is allowed from any status.
ROLE_STATUSES = {
    VersionRole.CHAMPION: (VersionStatus.APPROVED, VersionStatus.IN_USE),
    VersionRole.CHALLENGER: (VersionStatus.APPROVED, VersionStatus.IN_USE),
    VersionRole.BENCHMARK: (VersionStatus.VALIDATED, VersionStatus.APPROVED, VersionStatus.IN_USE),
}


def _role_changed(*, actor, version: ModelVersion, role: str, reason: str) -> None:
    before = version.role
    version.role = role
    version.save(update_fields=["role", "updated_at"])
    audit_record(actor=actor, action="model_version.role_changed", object_type="model_version",
                 object_id=version.pk,
                 before={"model": version.model.model_id, "version": version.version, "role": before},
                 after={"model": version.model.model_id, "version": version.version, "role": role},
                 reason=reason)


@transaction.atomic
def version_role_set(*, actor, version: ModelVersion, role: str, reason: str) -> ModelVersion:
    """Give a version its role among the model's versions; the only code that changes ``role``.

    A governance decision, so approvers and admins only, and never a developer of the model
    (segregation of duties, as for approval). Setting a champion while another version of the model
    is champion demotes that one to challenger in the same transaction; every changed version gets
    its own ``model_version.role_changed`` audit event. Returns the version with its new role.
    """
    if not (has_role(actor, APPROVER) or has_role(actor, ADMIN)):
        raise Forbidden("setting a version's role needs the role approver or admin", code="missing_role")
    if role not in VersionRole.values:
        choices = ", ".join(repr(v) for v in VersionRole.values)
        raise InvalidInput(f"unknown role {role!r}; use one of {choices}", details={"role": [choices]})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("setting a version's role needs a reason", details={"reason": ["this field is required"]})
    # Lock every version of the model: two concurrent champion promotions must serialise here rather than
    # one of them failing on the one-champion constraint.
    versions = {v.pk: v for v in ModelVersion.objects.select_for_update().select_related("model")
                .filter(model_id=version.model_id).order_by("pk")}
    version = versions[version.pk]
    conflict = independence_conflict(actor, version.model)  # roles are about the model's versions together
    if conflict:
        raise Forbidden(f"{conflict} cannot set the roles of its versions", code="segregation_of_duties")
    allowed = ROLE_STATUSES.get(role)
    if allowed is not None and version.status not in allowed:
        raise Conflict(
            f"cannot make {version} {role}: it is {version.status}; a {role} must be {' or '.join(allowed)}",
            code="illegal_role", details={"status": version.status, "role": role, "allowed_statuses": list(allowed)},
        )
    if version.role == role:
        return version
    if role == VersionRole.CHAMPION:
        for other in versions.values():
            if other.pk != version.pk and other.role == VersionRole.CHAMPION:
                _role_changed(actor=actor, version=other, role=VersionRole.CHALLENGER,
                              reason=f"demoted: {version} made champion; {reason}")
    _role_changed(actor=actor, version=version, role=role, reason=reason)
    return version
