"""In a real browser, as the validator: generate a validation set, watch its job, start validation on it, watch
that job, raise a finding, find it in the register and close it with an e-signature. The developer of the model
is refused starting validation on its set (403 page, nothing created)."""

from __future__ import annotations

import re

import pytest

from governance.models import AuditEvent, Finding
from scenarios.models import ScenarioSet
from tests.browser.support import readme_screenshot, wait_finished
from validation.models import ValidationRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def in_validation(train, drive_to):
    trained = train("factor_mc")
    assert trained.status == "SUCCEEDED", trained.error
    return drive_to(trained.model_version, "in_validation")


def test_a_validator_generates_a_set_validates_it_and_closes_a_finding_with_an_e_signature(
        in_validation, validator, developer, open_page, sign_in, screenshot):
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    version = in_validation
    page = open_page()
    page.goto(f"/versions/{version.pk}/validation-sets/")
    sign_in(page, "val")
    expect(page.get_by_role("heading", name=re.compile("Validation sets of"))).to_be_visible()

    # Bad input first: the form comes back with the error next to the field, nothing started.
    form = page.locator("#generate-form")
    form.get_by_label("Condition").select_option("unconditioned")
    form.get_by_label("Number of scenarios").fill("0")
    form.get_by_label("Horizon (trading days)").fill("10")
    form.get_by_role("button", name="Start generation").click()
    expect(page.locator(".field-error").first).to_contain_text("greater than or equal to 1")
    assert not ScenarioSet.objects.filter(model_version=version).exists()

    form = page.locator("#generate-form")
    form.get_by_label("Number of scenarios").fill("300")
    form.get_by_label("Horizon (trading days)").fill("10")
    form.get_by_label("Seed").fill("4")
    form.get_by_role("button", name="Start generation").click()
    expect(page).to_have_url(re.compile(r"/jobs/generation_run/\d+/$"))
    wait_finished(page, expect)
    scenario_set = ScenarioSet.objects.get(model_version=version)
    assert (scenario_set.purpose, scenario_set.n_scenarios, scenario_set.horizon) == ("validation", 300, 10)

    # Start validation: a plain confirmation, no password.
    page.goto(f"/versions/{version.pk}/validation-sets/")
    expect(page.locator("table.validate-sets")).to_contain_text("300 × 10 days")
    readme_screenshot(page, "validate-generate")
    page.get_by_role("link", name=f"Start validation of set {scenario_set.pk}").click()
    expect(page.get_by_role("heading", name=f"Start validation of scenario set {scenario_set.pk}")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    page.get_by_label("univariate").check()
    page.get_by_label("memorisation").check()
    page.get_by_role("button", name="Start validation").click()
    expect(page).to_have_url(re.compile(r"/jobs/validation_run/\d+/$"))
    wait_finished(page, expect)
    run = ValidationRun.objects.get(scenario_set=scenario_set)
    assert run.created_by == validator and run.tiers == ["univariate", "memorisation"]
    page.get_by_role("link", name="Open the validation results").click()
    expect(page.get_by_role("heading", name=re.compile(f"Validation run {run.pk}"))).to_be_visible()

    # Raise a finding on the version, then find it in the register.
    page.goto(f"/versions/{version.pk}/")
    page.get_by_text("Raise a finding").click()
    page.get_by_label("Title").fill("Kurtosis of SP500 too low")
    page.get_by_label("Description").fill("Excess kurtosis 1.2 against 4.8 in the holdout.")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Due date").fill("2027-06-30")
    page.get_by_role("button", name="Raise finding").click()
    finding = Finding.objects.get(version=version)

    page.goto("/findings/")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Status").select_option("open_any")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("table.findings-register")
    expect(table.locator("caption")).to_have_text("1 finding")
    expect(table.get_by_role("link", name=str(version))).to_have_attribute("href", f"/versions/{version.pk}/")
    readme_screenshot(page, "findings-register")
    screenshot(page, "findings-register")
    table.get_by_role("link", name="Kurtosis of SP500 too low").click()
    expect(page.get_by_role("heading", name=re.compile(f"Finding #{finding.pk}"))).to_be_visible()

    # Close it: a wrong password is refused and changes nothing; the right one signs.
    form = page.locator("#resolve-form")
    expect(page.locator("#resolve")).to_contain_text("closed as independent validator")
    form.get_by_label("Close: the remediation is verified").check()
    form.get_by_label("Resolution").fill("Re-fitted with Student-t margins; verified in a new run.")
    form.get_by_label("Password (e-signature)").fill("not my password")
    form.get_by_role("button", name="Sign and record").click()
    expect(page.get_by_role("alert")).to_contain_text("signature refused: the password is not correct")
    finding.refresh_from_db()
    assert finding.status == "open"

    form = page.locator("#resolve-form")
    form.get_by_label("Close: the remediation is verified").check()
    form.get_by_label("Resolution").fill("Re-fitted with Student-t margins; verified in a new run.")
    form.get_by_label("Password (e-signature)").fill(PASSWORD)
    form.get_by_role("button", name="Sign and record").click()
    expect(page.get_by_role("status")).to_contain_text("status is now Closed")
    finding.refresh_from_db()
    assert finding.status == "closed"
    expect(page.locator("table").last).to_contain_text("finding.signed")
    assert AuditEvent.objects.filter(action="finding.signed", object_id=str(finding.pk)).count() == 1

    # The developer of the model: the start-validation page is a 403 page, and nothing is created.
    runs_before = ValidationRun.objects.count()
    dev_page = open_page()
    dev_page.goto(f"/scenario-sets/{scenario_set.pk}/validate/")
    sign_in(dev_page, "dev")
    expect(dev_page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert ValidationRun.objects.count() == runs_before
