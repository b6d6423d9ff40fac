"""Explore pages (issue 17 §6/§8) on small data: inventory filters and counts, home counts per role,
/runs/ pagination, the one visibility rule for links, the comparison's bounds."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from governance import roles
from governance.models import AuditEvent, Finding, InventoryModel, ModelVersion
from governance.services.inventory import model_create, version_create
from portal import queries

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _model(actor, name: str, **fields) -> InventoryModel:
    return model_create(actor=actor, name=name, purpose="stress scenarios", business_line="Markets", family="copula",
                        exposure_usd=Decimal("500000000"), materiality_purpose="regulatory_stress", **fields)


def _rows(html: str) -> list[str]:
    """The model ids listed in the inventory table, in order."""
    return re.findall(r'<th scope="row"><a href="/inventory/([^/]+)/">', html)


def _caption_count(html: str) -> int:
    return int(re.search(r"<caption>(\d+) model", html).group(1))


def test_the_inventory_paginates_with_counts_and_filters_by_search_tier_status_owner_and_due(developer, make_user):
    other_owner = make_user("owner2", roles.DEVELOPER)
    models = [_model(developer, f"Model {i:02d}") for i in range(30)]
    # Three of tier 1 … the rest of whatever the rule computed; two owned by someone else; one due soon,
    # one overdue, one due in a year (not due).
    today = dt.date.today()
    InventoryModel.objects.filter(pk__in=[m.pk for m in models]).update(tier_override=None, computed_tier=2,
                                                                          next_validation_due=None)
    InventoryModel.objects.filter(pk__in=[m.pk for m in models[:3]]).update(computed_tier=1)
    InventoryModel.objects.filter(pk__in=[m.pk for m in models[3:5]]).update(owner=other_owner)
    InventoryModel.objects.filter(pk=models[5].pk).update(next_validation_due=today + dt.timedelta(days=10))
    InventoryModel.objects.filter(pk=models[6].pk).update(next_validation_due=today - dt.timedelta(days=3))
    InventoryModel.objects.filter(pk=models[7].pk).update(next_validation_due=today + dt.timedelta(days=365))
    InventoryModel.objects.filter(pk=models[8].pk).update(status="retired")
    client = _client(developer)

    first = client.get("/inventory/").content.decode()
    assert _caption_count(first) == 30 and len(_rows(first)) == 25
    assert "page 1 of 2" in first
    second = client.get("/inventory/?page=2").content.decode()
    assert len(_rows(second)) == 5 and not set(_rows(first)) & set(_rows(second))

    tier1 = client.get("/inventory/?tier=1").content.decode()
    assert _caption_count(tier1) == 3 and set(_rows(tier1)) == {m.model_id for m in models[:3]}
    owned = client.get("/inventory/?owner=owner2").content.decode()
    assert set(_rows(owned)) == {models[3].model_id, models[4].model_id}
    due = client.get("/inventory/?due=1").content.decode()
    assert set(_rows(due)) == {models[5].model_id, models[6].model_id}
    assert "overdue" in due
    retired = client.get("/inventory/?status=retired").content.decode()
    assert _rows(retired) == [models[8].model_id]
    by_name = client.get("/inventory/?q=Model 07").content.decode()
    assert _rows(by_name) == [models[7].model_id]
    by_id = client.get(f"/inventory/?q={models[12].model_id}").content.decode()
    assert _rows(by_id) == [models[12].model_id]
    # Filters survive paging: the pager's links keep them.
    assert "tier=1" not in first and "page=2" in first
    combined = client.get("/inventory/?tier=2&page=1").content.decode()
    assert _caption_count(combined) == 27 and "tier=2&amp;page=2" in combined


def _work(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in re.findall(
        r'id="work-([a-z_]+)"><strong class="count[^"]*">(\d+)</strong>', html)}


def test_home_shows_each_role_its_pending_work_counted_by_the_selectors(developer, validator, approver, auditor,
                                                                         make_user):
    model = _model(developer, "Home model")
    draft = version_create(actor=developer, model=model, version="1.0.0")
    submitted = version_create(actor=developer, model=model, version="1.1.0")
    in_validation = version_create(actor=developer, model=model, version="1.2.0")
    validated = version_create(actor=developer, model=model, version="1.3.0")
    changes = version_create(actor=developer, model=model, version="1.4.0")
    ModelVersion.objects.filter(pk=submitted.pk).update(status="submitted")
    ModelVersion.objects.filter(pk=in_validation.pk).update(status="in_validation")
    ModelVersion.objects.filter(pk=validated.pk).update(status="validated")
    ModelVersion.objects.filter(pk=changes.pk).update(status="changes_requested")
    today = dt.date.today()
    for days, status in ((-5, "open"), (10, "remediated"), (30, "open"), (-5, "closed")):
        Finding.objects.create(version=submitted, title=f"f {days} {status}", description="d", severity="high",
                               status=status, raised_by=validator, owner=developer,
                               due_date=today + dt.timedelta(days=days))
    InventoryModel.objects.filter(pk=model.pk).update(next_validation_due=today + dt.timedelta(days=20))
    _model(developer, "Not due")

    dev = _work(_client(developer).get("/").content.decode())
    assert dev == {"drafts": 1, "changes_requested": 1, "findings_due": 2, "revalidations_due": 1}
    val = _work(_client(validator).get("/").content.decode())
    assert val == {"to_validate": 2, "findings_due": 2, "revalidations_due": 1}
    appr = _work(_client(approver).get("/").content.decode())
    assert appr == {"to_approve": 1, "findings_due": 2, "revalidations_due": 1}
    aud = _work(_client(auditor).get("/").content.decode())
    assert aud == {"findings_due": 2, "revalidations_due": 1}
    # The developer's home lists the versions to work on, with links that open.
    html = _client(developer).get("/").content.decode()
    assert f"/versions/{draft.pk}/" in html and f"/versions/{changes.pk}/" in html
    # The counts are those of the selectors, one query each.
    assert queries.findings_due(user=validator).count() == 2
    # A developer of other models sees neither the draft nor the findings of versions they may not see.
    stranger = _work(_client(make_user("dev9", roles.DEVELOPER)).get("/").content.decode())
    assert stranger == {"drafts": 0, "changes_requested": 0, "findings_due": 0, "revalidations_due": 1}


def test_a_person_without_a_role_gets_403_on_every_explore_page(make_user):
    nobody = _client(make_user("nobody"))
    for url in ("/", "/inventory/?due=1", "/compare/runs/?ids=1&ids=2", "/lineage/?q=abc", "/runs/?kind=Packet"):
        assert nobody.get(url).status_code == 403, url


def _generation_runs(version, user, n: int):
    from scenarios.models import GenerationRun

    GenerationRun.objects.bulk_create([GenerationRun(model_version=version, n_scenarios=10, horizon=5, seed=i,
                                                     created_by=user, status="SUCCEEDED") for i in range(n)])


def test_runs_paginates_past_fifty_with_counts_per_kind(developer, auditor):
    model = _model(developer, "Runs model")
    version = version_create(actor=developer, model=model, version="1.0.0")
    _generation_runs(version, developer, 60)
    client = _client(auditor)
    first = client.get("/runs/").content.decode()
    assert first.count('<th scope="row">Generation</th>') == 50
    assert "1–50 of 60 runs" in first and "Generation (60)" in first and "page 1 of 2" in first
    second = client.get("/runs/?page=2").content.decode()
    assert second.count('<th scope="row">Generation</th>') == 10 and "51–60 of 60 runs" in second
    only = client.get("/runs/?kind=Generation&page=2").content.decode()
    assert only.count('<th scope="row">Generation</th>') == 10 and "kind=Generation&amp;page=1" in only
    none = client.get("/runs/?kind=Packet").content.decode()
    assert "No run you may see." in none


def test_a_validator_gets_no_link_to_a_draft_version_anywhere_and_its_lineage_is_404(developer, validator):
    model = _model(developer, "Draft model")
    draft = version_create(actor=developer, model=model, version="0.1.0")
    _generation_runs(draft, developer, 2)
    assert AuditEvent.objects.filter(object_type="model_version", object_id=str(draft.pk)).exists()
    client = _client(validator)
    link = f'href="/versions/{draft.pk}/"'
    for url in ("/", "/inventory/", f"/inventory/{model.model_id}/", "/runs/", "/audit/",
                "/audit/?object_type=model_version", "/documents/", "/lineage/", f"/lineage/?q={model.model_id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert link not in response.content.decode(), url
    assert f"model_version:{draft.pk}" not in client.get("/lineage/").content.decode()
    assert client.get(f"/versions/{draft.pk}/").status_code == 404
    assert client.get(f"/lineage/model_version:{draft.pk}/").status_code == 404
    assert client.get(f"/lineage/?uid=model_version:{draft.pk}").status_code == 404
    # The developer who owns it is linked to it from the audit log and the runs.
    own = _client(developer)
    assert link in own.get("/audit/").content.decode()
    assert link in own.get("/runs/").content.decode()


@pytest.mark.parametrize("query, status", [
    ("ids=1", 400), ("ids=1&ids=2&ids=3&ids=4&ids=5", 400), ("ids=a&ids=2", 400), ("", 400),
    ("ids=999998&ids=999999", 404),
])
def test_run_comparison_needs_two_to_four_visible_runs(validator, query, status):
    response = _client(validator).get(f"/compare/runs/?{query}")
    assert response.status_code == status
