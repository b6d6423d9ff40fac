"""The authorization matrix: one table, operation × principal → the status the API answers.

Read with ``tests/authz/requests.py`` (what each write sends: a request the right role could make succeed, so that
authorization, not input validation, decides) and ``tests/authz/world.py`` (the seeded objects: the paths name
the approved version 1.0.0 of the seeded model, or the draft 2.0.0 where marked). ``other_developer`` holds the
developer role but does not develop the seeded model: objects of versions it may not see answer 404, so their
existence does not leak. The auditor is read-only: 403 on every write but signing an audit checkpoint.

Every operation of the OpenAPI schema has a row (``test_matrix`` fails on an operation without one, or a row for
an operation the schema no longer has). A status below that differs from what the code answers is a defect to fix
in the code, not in this table.
"""

from __future__ import annotations

from tests.authz.world import PRINCIPALS

# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    # operation                                              anon none  dev odev  val  app  aud  adm
    ('GET', '/api/v1/audit/checkpoints/'):                  (401, 403, 200, 200, 200, 200, 200, 200),
    # signing the head on request writes a row and an event: the admin's; the auditor is read-only (issue 17)
    ('POST', '/api/v1/audit/checkpoints/'):                 (401, 403, 403, 403, 403, 403, 403, 201),
    ('GET', '/api/v1/audit/events/'):                       (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/audit/events/{seq}/'):                 (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/audit/public-key/'):                   (401, 200, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/audit/verify/'):                       (401, 403, 200, 200, 200, 200, 200, 200),
    # anonymous sends a wrong password; the others their own
    ('POST', '/api/v1/auth/token/'):                        (400, 200, 200, 200, 200, 200, 200, 200),
    # an upload being parsed: its starter, auditors and admins see it
    ('GET', '/api/v1/dataset-imports/'):                    (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/dataset-imports/{id}/'):               (401, 403, 200, 404, 404, 404, 200, 200),
    ('GET', '/api/v1/datasets/'):                           (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/datasets/'):                          (401, 403, 201, 201, 403, 403, 403, 201),
    ('GET', '/api/v1/datasets/{id}/'):                      (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/evidence/'):                           (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/findings/'):                           (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/findings/{id}/'):                      (401, 403, 200, 404, 200, 200, 200, 200),
    ('POST', '/api/v1/findings/{id}/{action}/'):            (401, 403, 200, 404, 403, 403, 403, 403),
    ('GET', '/api/v1/generation-runs/'):                    (401, 403, 200, 200, 200, 200, 200, 200),
    # a version one cannot see is not found (§5)
    ('POST', '/api/v1/generation-runs/'):                   (401, 403, 202, 404, 202, 403, 403, 202),
    ('GET', '/api/v1/generation-runs/{id}/'):               (401, 403, 200, 404, 200, 200, 200, 200),
    # 409: the run has finished
    ('POST', '/api/v1/generation-runs/{id}/cancel/'):       (401, 403, 403, 404, 409, 403, 403, 409),
    ('GET', '/api/v1/lineage/'):                            (401, 403, 200, 200, 200, 200, 200, 200),
    # lineage follows the version's visibility (§5)
    ('GET', '/api/v1/lineage/{uid}/'):                      (401, 403, 200, 404, 200, 200, 200, 200),
    # lineage follows the version's visibility (§5)
    ('GET', '/api/v1/lineage/{uid}/prov/'):                 (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/me/'):                                 (401, 200, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/models/'):                             (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/models/'):                            (401, 403, 201, 201, 403, 403, 403, 201),
    ('GET', '/api/v1/models/{model_id}/'):                  (401, 403, 200, 200, 200, 200, 200, 200),
    ('PATCH', '/api/v1/models/{model_id}/'):                (401, 403, 200, 403, 403, 403, 403, 200),
    ('GET', '/api/v1/models/{model_id}/comparison/'):       (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/models/{model_id}/tier-changes/'):     (401, 403, 200, 200, 200, 200, 200, 200),
    # 409: the seeded model already has a pending tier change
    ('POST', '/api/v1/models/{model_id}/tier-changes/'):(401, 403, 409, 403, 403, 403, 403, 409),
    ('POST', '/api/v1/models/{model_id}/tier-override/'):   (401, 403, 403, 403, 200, 403, 403, 200),
    ('GET', '/api/v1/models/{model_id}/versions/'):         (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/models/{model_id}/versions/'):        (401, 403, 201, 403, 403, 403, 403, 403),
    ('GET', '/api/v1/packets/'):                            (401, 403, 200, 200, 200, 200, 200, 200),
    # auditor read-only (issue 16 Low)
    ('POST', '/api/v1/packets/'):                           (401, 403, 202, 404, 202, 202, 403, 202),
    ('GET', '/api/v1/packets/{id}/'):                       (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/packets/{id}/download/'):              (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/portfolios/'):                         (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/portfolios/'):                        (401, 403, 201, 201, 201, 403, 403, 201),
    ('POST', '/api/v1/portfolios/upload/'):                 (401, 403, 201, 201, 201, 403, 403, 201),
    ('GET', '/api/v1/portfolios/{id}/'):                    (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/reports/'):                            (401, 403, 200, 200, 200, 200, 200, 200),
    # auditor read-only (issue 16 Low)
    ('POST', '/api/v1/reports/'):                           (401, 403, 202, 404, 202, 202, 403, 202),
    ('GET', '/api/v1/reports/{id}/'):                       (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/reports/{id}/pdf/'):                   (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/scenario-sets/'):                      (401, 403, 200, 200, 200, 200, 200, 200),
    # 400: the file is refused after authorization
    ('POST', '/api/v1/scenario-sets/import/'):              (401, 403, 400, 400, 400, 403, 403, 400),
    ('GET', '/api/v1/scenario-sets/{id}/'):                 (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/scenario-sets/{id}/download/'):        (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/stress-results/'):                     (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/stress-results/'):                    (401, 403, 201, 404, 201, 403, 403, 201),
    ('GET', '/api/v1/stress-results/{id}/'):                (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/tier-changes/{id}/'):                  (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/tier-changes/{id}/decision/'):(401, 403, 403, 403, 200, 403, 403, 200),
    ('GET', '/api/v1/training-runs/'):                      (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/training-runs/'):                     (401, 403, 202, 403, 403, 403, 403, 403),
    # runs follow the version's visibility (issue 16 §5)
    ('GET', '/api/v1/training-runs/{id}/'):                 (401, 403, 200, 404, 200, 200, 200, 200),
    # 409: the run has finished; runs follow the version's visibility (§5)
    ('POST', '/api/v1/training-runs/{id}/cancel/'):         (401, 403, 409, 404, 403, 403, 403, 409),
    ('GET', '/api/v1/validation-policies/'):                (401, 403, 200, 200, 200, 200, 200, 200),
    # 400: empty thresholds refused after authorization
    ('POST', '/api/v1/validation-policies/'):               (401, 403, 403, 403, 403, 403, 403, 400),
    ('GET', '/api/v1/validation-runs/'):                    (401, 403, 200, 200, 200, 200, 200, 200),
    ('POST', '/api/v1/validation-runs/'):                   (401, 403, 202, 404, 202, 403, 403, 202),
    ('GET', '/api/v1/validation-runs/{id}/'):               (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/versions/'):                           (401, 403, 200, 200, 200, 200, 200, 200),
    ('GET', '/api/v1/versions/{id}/'):                      (401, 403, 200, 404, 200, 200, 200, 200),
    # draft
    ('PATCH', '/api/v1/versions/{id}/'):                    (401, 403, 200, 404, 404, 403, 403, 403),
    ('GET', '/api/v1/versions/{id}/evidence/'):             (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/versions/{id}/findings/'):             (401, 403, 200, 404, 200, 200, 200, 200),
    ('POST', '/api/v1/versions/{id}/findings/'):            (401, 403, 403, 404, 201, 403, 403, 403),
    ('POST', '/api/v1/versions/{id}/role/'):                (401, 403, 403, 404, 403, 200, 403, 200),
    ('GET', '/api/v1/versions/{id}/signatures/'):           (401, 403, 200, 404, 200, 200, 200, 200),
    ('GET', '/api/v1/versions/{id}/transitions/'):          (401, 403, 200, 404, 200, 200, 200, 200),
    # draft; 409: it has no checkpoint to submit
    ('POST', '/api/v1/versions/{id}/transitions/'):         (401, 403, 409, 404, 404, 403, 403, 403),
    ('GET', '/api/v1/workflow/'):                           (401, 403, 200, 200, 200, 200, 200, 200),
}
# fmt: on

# The auditor is read-only: no write answers it 2xx (signing in for a token is not a write).
AUDITOR_WRITES_ALLOWED = {("POST", "/api/v1/auth/token/")}


def expected_status(method: str, path: str, principal: str) -> int:
    row = MATRIX.get((method, path))
    if row is None:
        raise AssertionError(f"{method} {path} has no row in tests/authz/matrix.py")
    return row[PRINCIPALS.index(principal)]
