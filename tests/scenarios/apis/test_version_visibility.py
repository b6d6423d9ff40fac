"""Runs and lineage are visible exactly when their model version is (issue 16 §5, defect 5).

For each URL that used to leak a draft (its config, its checkpoint hash, its lineage), a user who
gets 404 on the version gets 404 there too, and the lineage graph never includes a node of a
version they cannot see.
"""

from __future__ import annotations

import pytest

from scenarios.models import TrainingRun
from scenarios.services.runs import training_run_start
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def outsider(make_user):
    """A developer with nothing to do with the model: drafts of others are not theirs to read."""
    return make_user("dev-outsider", "developer")


@pytest.fixture
def draft(train, generate, developer):
    """A trained draft version and a development scenario set generated from it."""
    run = train()
    assert run.status == "SUCCEEDED", run.error
    scenario_set = generate(developer, run.model_version, n_scenarios=50, horizon=5, purpose="development", seed=3)
    return run, scenario_set


def version_urls(run, scenario_set) -> list[str]:
    version = run.model_version
    return [
        f"/api/v1/versions/{version.pk}/",
        f"/api/v1/training-runs/{run.pk}/",
        f"/api/v1/generation-runs/{scenario_set.generation_run_id}/",
        f"/api/v1/lineage/model_version:{version.pk}/",
        f"/api/v1/lineage/model_version:{version.pk}/prov/",
        f"/api/v1/lineage/{run.lineage_uid}/",
        f"/api/v1/lineage/checkpoint:{run.checkpoint_sha256}/",
        f"/api/v1/lineage/{scenario_set.lineage_uid}/",
    ]


def private_uids(run, scenario_set) -> set[str]:
    return {f"model_version:{run.model_version_id}", run.lineage_uid, f"checkpoint:{run.checkpoint_sha256}",
            scenario_set.lineage_uid, scenario_set.generation_run.lineage_uid}


def test_who_gets_404_on_a_draft_gets_404_on_its_runs_and_lineage(draft, developer, validator, outsider, auditor, api):
    run, scenario_set = draft
    for url in version_urls(run, scenario_set):
        for blind in (validator, outsider):
            response = api(blind).get(url)
            assert response.status_code == 404, (url, blind.username, response.content)
            assert response.json()["error"]["code"] == "not_found"
        for sighted in (developer, auditor):
            assert api(sighted).get(url).status_code == 200, (url, sighted.username)


def test_lists_leave_out_what_the_version_hides(draft, validator, outsider, auditor, api):
    run, scenario_set = draft
    for blind in (validator, outsider):
        client = api(blind)
        assert run.pk not in [r["id"] for r in client.get("/api/v1/training-runs/").json()["results"]]
        assert scenario_set.generation_run_id not in [
            r["id"] for r in client.get("/api/v1/generation-runs/").json()["results"]]
        nodes = client.get("/api/v1/lineage/", {"limit": 500}).json()["results"]
        assert not private_uids(run, scenario_set) & {n["uid"] for n in nodes}
    nodes = api(auditor).get("/api/v1/lineage/", {"limit": 500}).json()["results"]
    assert private_uids(run, scenario_set) <= {n["uid"] for n in nodes}


def test_the_lineage_graph_around_a_shared_dataset_never_shows_the_draft(draft, real_dataset, validator, auditor, api):
    run, scenario_set = draft
    url = f"/api/v1/lineage/{real_dataset.lineage_uid}/"
    blind = api(validator).get(url, {"direction": "both", "depth": 50}).json()
    uids = {n["uid"] for n in blind["nodes"]}
    assert real_dataset.lineage_uid in uids
    assert not private_uids(run, scenario_set) & uids
    assert all(e["source"] in uids and e["target"] in uids for e in blind["edges"])
    sighted = api(auditor).get(url, {"direction": "both", "depth": 50}).json()
    assert private_uids(run, scenario_set) <= {n["uid"] for n in sighted["nodes"]}


def test_once_submitted_the_validator_sees_the_run_and_its_lineage(draft, developer, validator, outsider, api):
    run, scenario_set = draft
    from governance.services.workflow import version_transition

    version_transition(actor=developer, version=run.model_version, action="submit", password=PASSWORD)
    assert api(validator).get(f"/api/v1/training-runs/{run.pk}/").status_code == 200
    assert api(validator).get(f"/api/v1/lineage/model_version:{run.model_version_id}/").status_code == 200
    # The outsider is neither validator nor developer of the model: still nothing.
    assert api(outsider).get(f"/api/v1/training-runs/{run.pk}/").status_code == 404


def test_a_training_run_without_a_version_yet_is_its_creators_draft(
        developer, validator, auditor, scenario_model, real_dataset, api, django_capture_on_commit_callbacks):
    import datetime as dt

    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(actor=developer, model=scenario_model, version_label="9.0.0", dataset=real_dataset,
                                 engine="factor_mc", config={}, seed=1, train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
    assert TrainingRun.objects.get(pk=run.pk).model_version is None
    url = f"/api/v1/training-runs/{run.pk}/"
    assert api(developer).get(url).status_code == 200
    assert api(auditor).get(url).status_code == 200
    assert api(validator).get(url).status_code == 404


def test_the_portal_lineage_page_follows_the_same_rule(draft, validator, auditor, client):
    run, _ = draft
    client.force_login(validator)
    assert client.get(f"/lineage/model_version:{run.model_version_id}/").status_code == 404
    client.force_login(auditor)
    assert client.get(f"/lineage/model_version:{run.model_version_id}/").status_code == 200
