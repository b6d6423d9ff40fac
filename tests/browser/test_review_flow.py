"""In a real browser: a validator reviews and signs; the developer cannot; an auditor follows the lineage."""

from __future__ import annotations

import re

import pytest

from governance.models import AuditEvent, Finding, Signature

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_validator_raises_a_finding_and_signs_the_decision(under_validation, validator, developer, open_page,
                                                           sign_in, screenshot):
    from playwright.sync_api import expect

    from reports.services.figure_sets import figure_set_ensure, figure_set_execute

    version, run = under_validation.version, under_validation.run
    # The charts are drawn by their run once the result exists (the suite turns the automatic start off).
    figure_set_execute(figure_set_ensure(subject_kind="validation-run", subject=run).id)
    page = open_page()
    page.goto("/validation/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/validation/$"))
    sign_in(page, "val")
    expect(page.get_by_role("heading", name="Validation queue")).to_be_visible()
    screenshot(page, "validation-queue")
    page.get_by_role("link", name=f"run {run.pk}", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Validation run {run.pk}"))).to_be_visible()
    # The charts load as images (drawn by reports.services.figures).
    first_chart = page.locator("figure img").first
    expect(first_chart).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", first_chart.element_handle())
    screenshot(page, "validation-run")

    # Raise a finding (keyboard-reachable <details> form).
    page.get_by_text("Raise a finding").click()
    page.get_by_label("Title").fill("NASDAQ/WTI tail dependence too weak")
    page.get_by_label("Description").fill("Joint exceedances at 99% below the holdout's.")
    page.get_by_label("Severity").select_option("medium")
    page.get_by_label("Due date").fill("2027-03-31")
    page.get_by_role("button", name="Raise finding").click()
    expect(page.get_by_role("status")).to_contain_text("raised: NASDAQ/WTI tail dependence too weak")
    assert Finding.objects.filter(version=version, raised_by=validator).count() == 1

    # Sign the decision: the meaning is shown first; a wrong password is refused, the right one signs.
    form = page.locator("#decision-form")
    expect(page.locator("#decision")).to_contain_text("validated as independent validator")
    form.get_by_label(re.compile(r"^validate")).check()
    form.get_by_label("Reason").fill("Holdout 2015-2018 within thresholds; finding to be tracked.")
    form.get_by_label("Password (e-signature)").fill("not my password")
    form.get_by_role("button", name="Sign and record").click()
    expect(page.get_by_role("alert")).to_contain_text("signature refused: the password is not correct")
    version.refresh_from_db()
    assert version.status == "in_validation"

    from tests.conftest import PASSWORD

    form = page.locator("#decision-form")
    form.get_by_label(re.compile(r"^validate")).check()
    form.get_by_label("Reason").fill("Holdout 2015-2018 within thresholds; finding to be tracked.")
    form.get_by_label("Password (e-signature)").fill(PASSWORD)
    form.get_by_role("button", name="Sign and record").click()
    expect(page.get_by_role("status")).to_contain_text("status is now Validated")
    version.refresh_from_db()
    assert version.status == "validated"
    assert Signature.objects.get(version=version, action="validate").signer == validator

    # The audit log shows the events, with the chain verified.
    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_label("Actor (username)").fill("val")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#chain-status")).to_contain_text("Chain verified")
    table = page.locator("table.audit")
    for action in ("finding.raised", "signature.refused", "signature.created", "version.validate"):
        expect(table.get_by_role("cell", name=action, exact=True).first).to_be_visible()
    assert AuditEvent.objects.filter(action="signature.refused", actor_id=validator.pk).count() == 1
    screenshot(page, "audit-log")

    # The developer of the version sees the run but not the decision form, and why.
    dev_page = open_page()
    sign_in(dev_page, "dev")
    dev_page.goto(f"/validation/runs/{run.pk}/")
    expect(dev_page.get_by_role("heading", name=re.compile(f"Validation run {run.pk}"))).to_be_visible()
    expect(dev_page.locator("#decision-form")).to_have_count(0)
    expect(dev_page.locator("#decision-refusal")).to_contain_text(
        "a developer of this version cannot take part in its validation or approval")
    dev_page.goto("/inventory/")
    screenshot(dev_page, "inventory")
    dev_page.goto("/runs/")
    expect(dev_page.locator("table.runs")).to_contain_text("SUCCEEDED")
    screenshot(dev_page, "runs")


def test_auditor_walks_lineage_from_packet_to_dataset_and_downloads_the_pdf(packeted, auditor, open_page, sign_in,
                                                                            screenshot, tmp_path):
    from playwright.sync_api import expect

    packet, report, dataset = packeted.packet, packeted.report, packeted.training_run.dataset
    page = open_page()
    sign_in(page, "aud")
    page.get_by_role("link", name="Documents").first.click()
    page.locator(f'a[href="/lineage/?uid=packet:{packet.pk}"]').click()
    expect(page.get_by_role("heading", name=f"Lineage of packet:{packet.pk}")).to_be_visible()
    expect(page.locator(".graph svg")).to_be_visible()
    # Walk up (towards the sources) far enough to reach the data.
    page.get_by_label("Walk", exact=True).select_option("up")
    page.get_by_label("Depth").fill("12")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.lineage")).to_contain_text(f"report:{report.pk}")
    screenshot(page, "lineage")
    # Follow the nodes in the graph itself: packet → its report, then on to the dataset.
    node_link = f"//*[local-name()='a'][@*[local-name()='href'][contains(., '/lineage/report:{report.pk}/')]]"
    page.locator(".graph svg").locator(f"xpath={node_link}").first.click()
    expect(page.get_by_role("heading", name=f"Lineage of report:{report.pk}")).to_be_visible()
    page.locator("table.lineage").get_by_role("link", name=f"dataset:{dataset.pk}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Lineage of dataset:{dataset.pk}")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text(dataset.sha256)

    page.get_by_role("link", name="Documents").first.click()
    with page.expect_download() as info:
        page.locator(f'a[href="/documents/reports/{report.pk}.pdf"]').click()
    path = tmp_path / "report.pdf"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) == report.size_bytes
    assert info.value.suggested_filename.endswith(f"-report-{report.pk}.pdf")
    screenshot(page, "documents")
