"""In a real browser: the validation run page with its stored charts, the summary first, "show all" to expand."""

from __future__ import annotations

import re

import pytest

from governance.models import RunStatus
from reports.models import FigureSet
from tests.browser.support import readme_screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def drawing_on(settings):
    settings.CRUCIBLE_DRAW_FIGURES = True


def test_a_validator_reads_the_run_page_with_its_charts_and_shows_all_metrics(drawing_on, under_validation,
                                                                               validator, open_page, sign_in,
                                                                               screenshot):
    from playwright.sync_api import expect

    run = under_validation.run
    # Produced for real (committed): each result's charts were drawn by their own runs, not by the page.
    kinds = dict(FigureSet.objects.values_list("subject_kind", "status"))
    assert kinds == {"training-run": RunStatus.SUCCEEDED, "scenario-set": RunStatus.SUCCEEDED,
                     "validation-run": RunStatus.SUCCEEDED, "stress": RunStatus.SUCCEEDED}
    metrics = run.metrics.count()
    attention = run.metrics.filter(outcome__in=["WARN", "FAIL"]).count()

    page = open_page()
    page.goto(f"/validation/runs/{run.pk}/")
    sign_in(page, "val")
    expect(page.get_by_role("heading", name="Summary: outcome per test tier")).to_be_visible()
    images = page.locator("figure img")
    expect(images.first).to_be_visible()
    count = images.count()
    assert count >= 4
    for i in range(count):  # every chart decodes (lazy images are brought into view first)
        images.nth(i).scroll_into_view_if_needed()
        assert images.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth > 0)"), i
    metric_rows = page.locator("table.metrics tbody tr")
    assert metric_rows.count() == attention
    screenshot(page, "figures-validation-run")
    readme_screenshot(page, "validation-run")

    page.get_by_role("link", name=f"Show all {metrics} metrics").click()
    expect(page).to_have_url(re.compile(r"\?all=1#metrics$"))
    expect(page.get_by_role("heading", name=f"All {metrics} metrics")).to_be_visible()
    assert page.locator("table.metrics tbody tr").count() == metrics > attention
    page.get_by_role("link", name=re.compile(r"Show only WARN and FAIL")).click()
    expect(page.locator("table.metrics tbody tr")).to_have_count(attention)
