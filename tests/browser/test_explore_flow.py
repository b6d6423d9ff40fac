"""In a real browser (issue 17 §6-§8): home counts, inventory filters, the model timeline, run comparison,
and the lineage explorer's picker, zoom, pan and search — each as the role that uses it; refusals too."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from governance.models import InventoryModel
from tests.browser.support import readme_screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def two_runs(under_validation, validator, django_capture_on_commit_callbacks):
    from validation.services.runs import validation_part_execute, validation_run_start

    with django_capture_on_commit_callbacks(execute=False):
        run = validation_run_start(actor=validator, scenario_set=under_validation.scenario_set,
                                   tiers=["multivariate", "temporal"])
    for part in ("statistical", "neural"):
        validation_part_execute(run.pk, part, worker=f"{part}-worker")
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    under_validation.run2 = run
    return under_validation


def test_a_developer_sees_their_work_filters_the_inventory_and_reads_a_model_timeline(under_validation, developer,
                                                                                     open_page, sign_in):
    from playwright.sync_api import expect

    model = under_validation.version.model
    InventoryModel.objects.filter(pk=model.pk).update(next_validation_due=dt.date.today() + dt.timedelta(days=30))
    page = open_page()
    page.goto("/")
    sign_in(page, developer.username)
    expect(page.get_by_role("heading", name="Your pending work")).to_be_visible()
    expect(page.locator("#work-revalidations_due .count")).to_have_text("1")
    readme_screenshot(page, "home")

    page.get_by_role("link", name="Inventory", exact=True).click()
    page.get_by_label("Model risk tier").select_option(str(model.tier))
    page.get_by_label(re.compile("Due for re-validation")).check()
    page.get_by_label("Search").fill(model.model_id)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"due=1"))
    expect(page.locator("table.inventory caption")).to_contain_text("1 model")
    readme_screenshot(page, "inventory")
    # Another tier: nothing matches, and the form keeps what was chosen.
    page.get_by_label("Model risk tier").select_option(str(3 if model.tier != 3 else 2))
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.inventory")).to_contain_text("No model matches.")
    expect(page.get_by_label(re.compile("Due for re-validation"))).to_be_checked()

    page.goto(f"/inventory/{model.model_id}/")
    # A developer reads the audit events they caused (the audit rule): created, then submitted by them.
    timeline = page.locator("ol.timeline li")
    expect(timeline.first).to_contain_text("draft")
    expect(timeline.last).to_contain_text("draft → submitted by dev")


def test_a_validator_compares_two_runs_picked_on_the_model_page(two_runs, validator, open_page, sign_in):
    from playwright.sync_api import expect

    first, second = two_runs.run, two_runs.run2
    page = open_page()
    page.goto(f"/inventory/{two_runs.version.model.model_id}/")
    sign_in(page, validator.username)
    # A validator reads the whole trail: the timeline runs from the draft to in validation.
    expect(page.locator("ol.timeline li").last).to_contain_text("in_validation")
    readme_screenshot(page, "model")
    page.locator(f"#cmp-{first.pk}").check()
    page.locator(f"#cmp-{second.pk}").check()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare validation runs")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"ids={first.pk}\b"))
    expect(page).to_have_url(re.compile(rf"ids={second.pk}\b"))
    expect(page.locator("table.compare-metrics .delta").first).to_be_visible()
    expect(page.locator("#fan-chart svg polyline")).to_have_count(2)
    expect(page.locator("#loss-chart svg polyline")).to_have_count(2)
    readme_screenshot(page, "compare")
    # Five runs is too many: a 400 page says why, nothing else happens.
    response = page.goto(f"/compare/runs/?ids={first.pk}&ids={second.pk}&ids=999997&ids=999998&ids=999999")
    assert response.status == 400
    expect(page.get_by_role("main")).to_contain_text("pick from 2 to 4 validation runs")


def test_an_auditor_picks_an_entity_then_zooms_pans_and_searches_the_lineage(under_validation, auditor, open_page,
                                                                             sign_in):
    from playwright.sync_api import expect

    scenario_set = under_validation.scenario_set
    page = open_page()
    page.goto("/lineage/")
    sign_in(page, auditor.username)
    page.get_by_label("Entity", exact=True).select_option(f"model_version:{under_validation.version.pk}")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=re.compile("Lineage of"))).to_be_visible()
    graph = page.locator("#lineage-graph svg")
    expect(graph).to_be_visible()
    # The script took over: the tools are shown, the box is zoomable.
    expect(page.locator("#lineage-graph.zoomable")).to_be_visible()
    expect(page.locator("#graph-tools")).to_be_visible()
    before = graph.get_attribute("viewBox")
    page.get_by_role("button", name="Zoom in").click()
    zoomed = graph.get_attribute("viewBox")
    assert zoomed != before
    assert float(zoomed.split()[2]) < float(before.split()[2])  # a narrower view: bigger drawing
    box = page.locator("#lineage-graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 40, steps=5)
    page.mouse.up()
    panned = graph.get_attribute("viewBox")
    assert panned.split()[0] != zoomed.split()[0] and panned.split()[2] == zoomed.split()[2]
    page.mouse.wheel(0, -300)
    expect(graph).not_to_have_attribute("viewBox", panned)
    # Search by a SHA-256 prefix highlights the scenario set's node and its row.
    page.get_by_label("Highlight").fill(scenario_set.sha256[:8])
    expect(page.locator("#graph-find-count")).to_have_text(re.compile(r"^1 match"))
    expect(page.locator("#lineage-graph g.node.match")).to_have_count(1)
    expect(page.locator(f'tr[data-uid="scenario_set:{scenario_set.pk}"]')).to_have_class(re.compile("match"))
    page.get_by_role("button", name="Fit").click()
    readme_screenshot(page, "lineage")


def test_refusals_a_validator_cannot_open_a_draft_and_someone_without_a_role_gets_403(under_validation, developer,
                                                                                       validator, make_user,
                                                                                       open_page, sign_in):
    from playwright.sync_api import expect

    from governance.services.inventory import version_create

    draft = version_create(actor=developer, model=under_validation.version.model, version="9.0.0")
    page = open_page()
    page.goto(f"/inventory/{draft.model.model_id}/")
    sign_in(page, validator.username)
    expect(page.locator(f'a[href="/versions/{draft.pk}/"]')).to_have_count(0)
    assert page.goto(f"/lineage/model_version:{draft.pk}/").status == 404
    page.goto("/audit/")
    expect(page.locator(f'a[href="/versions/{draft.pk}/"]')).to_have_count(0)

    make_user("norole")
    other = open_page()
    other.goto("/inventory/")
    sign_in(other, "norole")
    expect(other.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert other.goto("/compare/runs/?ids=1&ids=2").status == 403
