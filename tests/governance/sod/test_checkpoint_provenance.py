"""A version's checkpoint must be a stored artefact a training run of its model produced (issue 16 §5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from governance.models import ModelVersion
from governance.services.inventory import model_create, version_create
from tests.conftest import PASSWORD
from tests.governance.provenance import trained_checkpoint

pytestmark = pytest.mark.django_db
TRANSITIONS = "/api/v1/versions/{}/transitions/"


def submit(api, user, version):
    return api(user).post(TRANSITIONS.format(version.pk), {"action": "submit", "password": PASSWORD}, format="json")


def assert_refused(response, version):
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "checkpoint_unknown"
    assert ModelVersion.objects.get(pk=version.pk).status == "draft"


def test_a_checkpoint_hash_that_names_no_artefact_cannot_be_submitted(make_version, developer, api):
    version = make_version(checkpoint_sha256="ab" * 32)
    assert_refused(submit(api, developer, version), version)


def test_a_checkpoint_trained_for_another_model_cannot_be_submitted(make_version, model_record, developer, api):
    other = model_create(actor=developer, name="Other", purpose="p", business_line="Markets", family="vae",
                         exposure_usd=1, materiality_purpose="informational")
    version = make_version(**trained_checkpoint(actor=developer, model=other))
    response = submit(api, developer, version)
    assert_refused(response, version)
    assert model_record.model_id in response.json()["error"]["message"]


def test_a_checkpoint_altered_in_the_store_cannot_be_submitted(make_version, developer, api):
    version = make_version()
    Path(settings.ARTIFACT_ROOT, version.checkpoint_uri).write_bytes(b"swapped weights")
    assert "not readable" in assert_refused_message(submit(api, developer, version), version)


def test_a_checkpoint_uri_outside_the_store_layout_is_refused(make_version, developer, api):
    version = make_version()
    ModelVersion.objects.filter(pk=version.pk).update(checkpoint_uri="../../etc/passwd")
    assert_refused(submit(api, developer, version), version)


def assert_refused_message(response, version) -> str:
    assert_refused(response, version)
    return response.json()["error"]["message"]


def test_a_checkpoint_of_a_training_run_of_the_model_is_submitted(make_version, developer, api):
    version = make_version()
    response = submit(api, developer, version)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"


def test_a_version_a_real_training_run_registered_is_submitted(train, developer, scenario_model, api):
    run = train()
    assert run.status == "SUCCEEDED", run.error
    response = submit(api, developer, run.model_version)
    assert response.status_code == 200, response.content
    # The same checkpoint under a hand-made version of another model is refused.
    other = model_create(actor=developer, name="Copy", purpose="p", business_line="Markets", family="copula",
                         exposure_usd=1, materiality_purpose="informational")
    copy = version_create(actor=developer, model=other, version="1.0.0", checkpoint_sha256=run.checkpoint_sha256,
                          checkpoint_uri=run.checkpoint_path, training_run=f"training_run:{run.pk}")
    assert_refused(submit(api, developer, copy), copy)
