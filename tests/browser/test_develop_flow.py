"""In a real browser, as the developer: register a model (tier previewed, then shown on the model page), start a
training run of a fast engine (a bad setting refused first, next to its field), watch its job, and submit the new
version with an e-signature (a wrong password refused first). The auditor is refused the register page (403 page,
nothing created)."""

from __future__ import annotations

import re

import pytest

from governance.models import InventoryModel, Signature
from scenarios.models import TrainingRun
from tests.browser.support import readme_screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



def test_a_developer_registers_a_model_trains_a_version_and_submits_it(
        developer, real_dataset, open_page, sign_in, screenshot):
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    page = open_page()
    page.goto("/inventory/new/")
    sign_in(page, "dev")
    expect(page.get_by_role("heading", name="Register a model")).to_be_visible()

    form = page.locator("#register-form")
    form.get_by_label("Name").fill("Equity and oil stress")
    form.get_by_label("Purpose", exact=True).fill("20-day stress scenarios for the trading book")
    form.get_by_label("Business line").fill("Markets")
    form.get_by_label("Family").select_option("factor_mc")
    form.get_by_label("Materiality purpose").select_option("risk_management")
    form.get_by_label("CCAR").check()
    # Bad input first: a negative exposure comes back next to the field, nothing registered.
    form.get_by_label("Exposure (USD)").fill("-1")
    form.get_by_role("button", name="Register the model").click()
    expect(page.locator(".field-error").first).to_contain_text("greater than or equal to 0")
    assert not InventoryModel.objects.exists()

    form = page.locator("#register-form")
    form.get_by_label("Exposure (USD)").fill("250000000")
    form.get_by_role("button", name="Preview the tier").click()
    expect(page.locator("#preview-tier")).to_have_text("tier 2")
    readme_screenshot(page, "develop-register")
    assert not InventoryModel.objects.exists()
    page.locator("#register-form").get_by_role("button", name="Register the model").click()
    expect(page).to_have_url(re.compile(r"/inventory/CRU-\d+/$"))
    model = InventoryModel.objects.get()
    expect(page.locator("main")).to_contain_text("2 (computed 2, rule tier-matrix/2026.1)")

    # Train: choose the engine, a bad setting first, then a valid run.
    page.goto(f"/inventory/{model.model_id}/train/")
    page.get_by_label("Engine").select_option("factor_mc")
    page.get_by_role("button", name="Show this engine's settings").click()
    readme_screenshot(page, "develop-train")
    form = page.locator("#train-form")
    form.get_by_label("Training window end").fill("2014-12-31")
    form.get_by_label("Holdout start").fill("2014-06-30")
    # (A number field cannot hold NaN in a browser; the page tests post NaN and ∞ directly.)
    form.get_by_label("gamma", exact=True).fill("0.5")
    form.get_by_role("button", name="Start training").click()
    expect(page.locator("#train-form")).to_contain_text("gamma must be a finite number >= 1")
    expect(page.locator("#train-form")).to_contain_text(
        "The holdout (2014-06-30) must start strictly after the training window ends (2014-12-31)")
    assert not TrainingRun.objects.exists()

    form = page.locator("#train-form")
    form.get_by_label("Holdout start").fill("2015-01-02")
    form.get_by_label("ewma lambda").fill("0.9")
    form.get_by_label("gamma", exact=True).fill("1.5")
    form.get_by_label("estimator").fill("ewma")
    form.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(r"/jobs/training_run/\d+/$"))
    expect(page.locator("#job-status")).to_have_text(re.compile(r"Succeeded|Failed|Cancelled"), timeout=120_000)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    run = TrainingRun.objects.get()
    assert (run.engine, run.config["estimator"], run.config["ewma_lambda"]) == ("factor_mc", "ewma", 0.9)
    version = run.model_version
    assert version is not None and version.status == "draft"

    # Submit with an e-signature: a wrong password first.
    page.goto(f"/versions/{version.pk}/submit/")
    expect(page.locator("#meaning")).to_have_text("submitted for independent validation as developer")
    page.get_by_label("Password (e-signature)").fill("wrong password")
    page.get_by_role("button", name="Sign and submit").click()
    expect(page.locator(".field-error").first).to_contain_text("the password is not correct")
    version.refresh_from_db()
    assert version.status == "draft"
    screenshot(page, "develop-submit")
    page.get_by_label("Note for the validator").fill("first version")
    page.get_by_label("Password (e-signature)").fill(PASSWORD)
    page.get_by_role("button", name="Sign and submit").click()
    expect(page).to_have_url(re.compile(rf"/versions/{version.pk}/$"))
    expect(page.locator("main")).to_contain_text("status is now Submitted")
    version.refresh_from_db()
    assert version.status == "submitted"
    assert Signature.objects.filter(version=version, action="submit", signer=developer).exists()


def test_an_auditor_is_refused_the_developer_pages(auditor, open_page, sign_in):
    from playwright.sync_api import expect

    page = open_page()
    page.goto("/inventory/new/")
    sign_in(page, "aud")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    response = page.request.get("/inventory/new/")
    assert response.status == 403
    assert not InventoryModel.objects.exists()
