"""GET /api/v1/models/<model_id>/comparison/: the comparison table for whoever may see the model."""

import pytest

from governance import roles
from governance.models import ModelVersion
from tests.scenarios.services.test_comparison import stressed_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def table_data(developer):
    return stressed_model(developer)


def url(model_id, **query):
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return f"/api/v1/models/{model_id}/comparison/{suffix}"


def test_an_auditor_reads_the_table_for_a_chosen_portfolio(api, auditor, table_data):
    model, book = table_data["model"], table_data["book"]
    response = api(auditor).get(url(model.model_id, portfolio=book.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["portfolio"]["id"] == book.pk and len(body["rows"]) == 6
    assert body["most_conservative"]["severe"]["var_99"] == 210.0
    assert body["most_conservative"]["severe"]["var_99_from"] == "challenger v1.1.0"
    assert sum(f["flagged"] for f in body["disagreement"]) == 4
    default = api(auditor).get(url(model.model_id)).json()
    assert default["portfolio"]["id"] == table_data["other"].pk


def test_versions_the_reader_may_not_see_are_left_out(api, make_user, table_data):
    # A developer of another model sees the inventory record, but none of this model's versions.
    outsider = make_user("outsider", roles.DEVELOPER)
    body = api(outsider).get(url(table_data["model"].model_id, portfolio=table_data["book"].pk)).json()
    assert body["rows"] == [] and body["most_conservative"] == {}
    ModelVersion.objects.filter(pk=table_data["champion"].pk).update(created_by=outsider)
    body = api(outsider).get(url(table_data["model"].model_id, portfolio=table_data["book"].pk)).json()
    assert {r["version"] for r in body["rows"]} == {"1.0.0"}


def test_unknown_model_or_portfolio_is_404_and_a_bad_id_400(api, auditor, table_data):
    assert api(auditor).get(url("NOPE-9999")).status_code == 404
    missing = api(auditor).get(url(table_data["model"].model_id, portfolio=999_999))
    assert missing.status_code == 404 and "portfolio 999999" in missing.json()["error"]["message"]
    assert api(auditor).get(url(table_data["model"].model_id, portfolio="abc")).status_code == 400


def test_a_user_without_a_role_is_refused(api, make_user, table_data):
    nobody = make_user("nobody")
    assert api(nobody).get(url(table_data["model"].model_id)).status_code == 403
    assert api().get(url(table_data["model"].model_id)).status_code in (401, 403)
