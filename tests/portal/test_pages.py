"""Every page as every role: sign-in redirect, 403 for a missing role, 404 for what one may not see."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.services.inventory import version_create

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "none", "developer", "validator", "approver", "auditor", "admin")

# page → expected status per role, in the order of ROLES. 302: to sign-in; "none": signed in, no role.
# {V}: the version in validation; {D}: a draft only its developer (and approvers, auditors, admins) may see.
EXPECTED = {
    "/":                              (302, 403, 200, 200, 200, 200, 200),
    "/inventory/":                    (302, 403, 200, 200, 200, 200, 200),
    "/inventory/{M}/":                (302, 403, 200, 200, 200, 200, 200),
    "/inventory/CRU-9999/":           (302, 403, 404, 404, 404, 404, 404),
    "/versions/{V}/":                 (302, 403, 200, 200, 200, 200, 200),
    "/versions/{D}/":                 (302, 403, 200, 404, 200, 200, 200),
    "/versions/{V}/decision/":        (302, 403, 200, 200, 200, 200, 200),
    "/versions/{D}/decision/":        (302, 403, 200, 404, 200, 200, 200),
    "/validation/":                   (302, 403, 403, 200, 403, 403, 200),
    "/validation/runs/{R}/":          (302, 403, 200, 200, 200, 200, 200),
    "/validation/runs/999999/":       (302, 403, 404, 404, 404, 404, 404),
    "/approvals/":                    (302, 403, 403, 403, 200, 403, 200),
    "/lineage/":                      (302, 403, 200, 200, 200, 200, 200),
    "/lineage/model_version:{V}/":    (302, 403, 200, 200, 200, 200, 200),
    "/lineage/dataset:{DS}/?direction=down&depth=2": (302, 403, 200, 200, 200, 200, 200),
    "/lineage/nothing:1/":            (302, 403, 404, 404, 404, 404, 404),
    "/lineage/model_version:{V}/?depth=99": (302, 403, 400, 400, 400, 400, 400),
    "/audit/":                        (302, 403, 200, 200, 200, 200, 200),
    "/audit/?timestamp_after=yesterday": (302, 403, 400, 400, 400, 400, 400),
    "/documents/":                    (302, 403, 200, 200, 200, 200, 200),
    "/documents/reports/999999.pdf":  (302, 403, 404, 404, 404, 404, 404),
    "/documents/packets/999999.zip":  (302, 403, 404, 404, 404, 404, 404),
    "/runs/":                         (302, 403, 200, 200, 200, 200, 200),
    "/figures/validation-run/{R}/no_such_chart.png": (302, 403, 404, 404, 404, 404, 404),
    "/figures/training-run/{T}/training_curve.png": (302, 403, 200, 200, 200, 200, 200),
    "/figures/unknown/{R}/x.png":     (302, 403, 404, 404, 404, 404, 404),
    "/accounts/login/":               (200, 302, 302, 302, 302, 302, 302),
}


def test_every_page_as_every_role(under_validation, users, make_user, developer):
    from reports.services.figure_sets import figure_set_ensure, figure_set_execute

    figure_set_execute(figure_set_ensure(subject_kind="training-run", subject=under_validation.training_run).id)
    draft = version_create(actor=developer, model=under_validation.version.model, version="2.0.0")
    ids = {"M": under_validation.version.model.model_id, "V": under_validation.version.pk, "D": draft.pk,
           "R": under_validation.run.pk, "T": under_validation.training_run.pk,
           "DS": under_validation.training_run.dataset_id}
    people = dict(users, none=make_user("nobody"))
    mismatches = []
    for template, statuses in EXPECTED.items():
        url = template.format(**ids)
        for role, expected in zip(ROLES, statuses, strict=True):
            client = Client()
            if role != "anonymous":
                client.force_login(people[role])
            response = client.get(url)
            if response.status_code != expected:
                mismatches.append(f"{url} as {role}: {response.status_code}, expected {expected}")
            elif role == "anonymous" and expected == 302:
                assert response["Location"].startswith("/accounts/login/?next="), url
    assert not mismatches, "\n".join(mismatches)


def test_posts_need_the_role_and_visibility(under_validation, users, developer):
    draft = version_create(actor=developer, model=under_validation.version.model, version="2.0.0")
    version = under_validation.version
    cases = [
        ("anonymous", f"/versions/{version.pk}/findings/new/", 302),
        ("developer", f"/versions/{version.pk}/findings/new/", 403),  # not a validator
        ("auditor", f"/versions/{version.pk}/findings/new/", 403),
        ("validator", f"/versions/{draft.pk}/findings/new/", 404),  # a draft is not visible to validators
        ("validator", f"/versions/{draft.pk}/decision/", 404),
        ("auditor", f"/versions/{version.pk}/decision/", 400),  # no action the auditor may choose
    ]
    for role, url, expected in cases:
        client = Client()
        if role != "anonymous":
            client.force_login(users[role])
        response = client.post(url, {"action": "validate", "password": "x", "title": "t", "description": "d",
                                     "severity": "low", "due_date": "2030-01-01"})
        assert response.status_code == expected, (role, url, response.status_code)
    version.refresh_from_db()
    assert version.status == "in_validation"
    assert not version.findings.exists()
