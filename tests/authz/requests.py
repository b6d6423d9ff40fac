"""The request the authorization matrix sends for each write operation: one a holder of the right role could
make succeed, so that the role check (not input validation) decides the status. Reads send no body.

Each builder takes the seeded world and the principal and returns ``(body, format)``; format ``"json"`` or
``"multipart"``. Path parameters come from ``tests.authz.paths.path_parameters`` (the approved version unless
``DRAFT_PATHS`` names the operation).
"""

from __future__ import annotations

import io

from tests.authz.world import ANONYMOUS, PASSWORD, SAMPLE_BOOK


def _file(name: str, data: bytes):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _token(world, principal):
    # Own credentials: a token for every principal that has an account; a wrong password for the anonymous.
    if principal == ANONYMOUS:
        return {"username": "authz_developer", "password": "not the password"}, "json"
    return {"username": world.users[principal].username, "password": PASSWORD}, "json"


def _model(world, principal):
    return {"name": "Matrix model", "purpose": "stress", "business_line": "Markets", "family": "copula",
            "exposure_usd": "1000000", "materiality_purpose": "regulatory_stress"}, "json"


def _training(world, principal):
    return {"model": world.model.model_id, "version_label": "9.0.0", "dataset": world.dataset.pk,
            "engine": "factor_mc", "train_end": "2014-12-31", "holdout_start": "2015-01-01"}, "json"


def _generation(world, principal):
    return {"model_version": world.version.pk, "n_scenarios": 10, "horizon": 5}, "json"


def _portfolio_csv(world, principal):
    csv = b"kind,factor,exposure,name\nlinear,SP500,1000,index\n"
    return {"file": _file("book.csv", csv), "name": "matrix book"}, "multipart"


def _scenario_import(world, principal):
    csv = b"scenario,step,SP500\n0,1,0.01\n0,2,-0.02\n"
    return {"file": _file("scenarios.csv", csv), "name": "matrix import", "dataset": world.dataset.pk}, "multipart"


BODIES = {
    ("POST", "/api/v1/audit/checkpoints/"): lambda w, p: ({"reason": "matrix"}, "json"),
    ("POST", "/api/v1/auth/token/"): _token,
    ("POST", "/api/v1/datasets/"): lambda w, p: ({"builtin": "sp500_nasdaq_wti", "name": "matrix data"}, "json"),
    ("POST", "/api/v1/findings/{id}/{action}/"): lambda w, p: ({"text": "fixed the tail"}, "json"),
    ("POST", "/api/v1/generation-runs/"): _generation,
    ("POST", "/api/v1/generation-runs/{id}/cancel/"): lambda w, p: (None, "json"),
    ("POST", "/api/v1/models/"): _model,
    ("PATCH", "/api/v1/models/{model_id}/"): lambda w, p: ({"limitations": "daily data only"}, "json"),
    ("POST", "/api/v1/models/{model_id}/tier-override/"): lambda w, p: ({"tier": 1, "reason": "matrix"}, "json"),
    ("POST", "/api/v1/models/{model_id}/tier-changes/"): lambda w, p: (
        {"exposure_usd": "900000000", "reason": "matrix"}, "json"),
    ("POST", "/api/v1/tier-changes/{id}/decision/"): lambda w, p: ({"decision": "reject", "reason": "matrix"}, "json"),
    ("POST", "/api/v1/models/{model_id}/versions/"): lambda w, p: ({"version": "3.0.0"}, "json"),
    ("POST", "/api/v1/packets/"): lambda w, p: ({"report": w.report.pk}, "json"),
    ("POST", "/api/v1/portfolios/"): lambda w, p: ({"name": "matrix book", "positions": SAMPLE_BOOK}, "json"),
    ("POST", "/api/v1/portfolios/upload/"): _portfolio_csv,
    ("POST", "/api/v1/reports/"): lambda w, p: ({"model_version": w.version.pk}, "json"),
    ("POST", "/api/v1/scenario-sets/import/"): _scenario_import,
    ("POST", "/api/v1/stress-results/"): lambda w, p: (
        {"scenario_set": w.scenario_set.pk, "portfolio": w.portfolio.pk, "levels": [0.99], "k": 3}, "json"),
    ("POST", "/api/v1/training-runs/"): _training,
    ("POST", "/api/v1/training-runs/{id}/cancel/"): lambda w, p: (None, "json"),
    ("POST", "/api/v1/validation-policies/"): lambda w, p: (
        {"model_tier": 3, "thresholds": {}, "note": "matrix"}, "json"),
    ("POST", "/api/v1/validation-runs/"): lambda w, p: ({"scenario_set": w.scenario_set.pk}, "json"),
    ("PATCH", "/api/v1/versions/{id}/"): lambda w, p: ({"notes": "matrix"}, "json"),
    ("POST", "/api/v1/versions/{id}/findings/"): lambda w, p: (
        {"title": "t", "description": "d", "severity": "low", "owner": w.users["developer"].pk,
         "due_date": "2027-01-01"}, "json"),
    ("POST", "/api/v1/versions/{id}/role/"): lambda w, p: ({"role": "champion", "reason": "matrix"}, "json"),
    ("POST", "/api/v1/versions/{id}/transitions/"): lambda w, p: (
        {"action": "submit", "password": PASSWORD}, "json"),
}

# Operations aimed at the seeded draft version (2.0.0) rather than the approved one: editing and submitting
# are what a draft is for.
DRAFT_PATHS = {
    ("PATCH", "/api/v1/versions/{id}/"),
    ("POST", "/api/v1/versions/{id}/transitions/"),
}


def request_for(world, principal: str, method: str, template: str):
    builder = BODIES.get((method, template))
    return builder(world, principal) if builder else (None, "json")
