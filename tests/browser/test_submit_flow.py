"""In a real browser: the developer generates the documentation PDF of an approved version, follows the job, builds
the submission packet from it, downloads it and verifies it on the "Verify a packet" page (every file OK); a
tampered upload and a non-zip are refused. The approver decides from the queue with the action preselected. The
auditor is refused (403 page, nothing changed)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest

from governance.models import AuditEvent
from reports.models import Packet, Report
from tests.browser.support import readme_screenshot, wait_finished

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]



def test_a_developer_documents_packets_and_verifies_a_version_in_the_browser(
        documented_version, developer, open_page, sign_in, screenshot, tmp_path):
    from playwright.sync_api import expect

    version = documented_version.version
    page = open_page()
    page.goto(f"/versions/{version.pk}/submission/")
    sign_in(page, "dev")
    expect(page.get_by_role("heading", name=re.compile("Prepare the submission"))).to_be_visible()

    # The options: the validated validation-purpose set is ticked by default.
    page.get_by_text("Options: which scenario sets").click()
    box = page.get_by_label(re.compile(rf"\(set {documented_version.scenario_set.pk}, purpose validation"))
    expect(box).to_be_checked()

    # Bad input first: nothing ticked → the form again, the error next to the field, nothing started.
    box.uncheck()
    page.get_by_role("button", name="Generate documentation").click()
    expect(page.locator(".field-error").first).to_contain_text("Tick at least one validated scenario set")
    assert not Report.objects.exists()

    # the options stay open when the form comes back with an error
    page.get_by_label(re.compile(rf"\(set {documented_version.scenario_set.pk}, purpose validation")).check()
    page.get_by_role("button", name="Generate documentation").click()
    expect(page).to_have_url(re.compile(r"/jobs/report/\d+/$"))
    wait_finished(page, expect)
    report = Report.objects.get()
    assert report.status == "SUCCEEDED" and report.created_by == developer
    expect(page.get_by_role("link", name="Download the PDF")).to_have_attribute(
        "href", f"/documents/reports/{report.pk}.pdf")

    page.goto(f"/versions/{version.pk}/submission/")
    page.get_by_label("Documentation PDF to build around").select_option(str(report.pk))
    page.get_by_role("button", name="Build submission packet").click()
    expect(page).to_have_url(re.compile(r"/jobs/packet/\d+/$"))
    wait_finished(page, expect)
    packet = Packet.objects.get()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the packet").click()
    saved = tmp_path / "packet.zip"
    download_info.value.save_as(saved)

    page.goto(f"/versions/{version.pk}/submission/")
    expect(page.get_by_role("link", name="zip")).to_have_attribute("href", f"/documents/packets/{packet.pk}.zip")
    screenshot(page, "submit-prepare")
    readme_screenshot(page, "submit-prepare")

    # Verify the downloaded packet: every file OK, the signature valid, the audit chain OK.
    page.goto("/packets/verify/")
    page.get_by_label("Packet (.zip)").set_input_files(str(saved))
    page.get_by_role("button", name="Verify").click()
    result = page.locator("#verify-result")
    expect(result.get_by_role("heading")).to_contain_text("intact")
    expect(result).not_to_contain_text("NOT intact")
    expect(result.locator("tbody tr")).to_have_count(len(packet.files))
    expect(result.locator("tbody tr.file-ok")).to_have_count(len(packet.files))
    expect(result).to_contain_text("chain OK")
    screenshot(page, "verify-packet")
    readme_screenshot(page, "verify-packet")

    # A tampered copy: the changed file is named MISMATCH.
    members = {}
    with zipfile.ZipFile(saved) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    members["README.txt"] = members["README.txt"] + b"tampered\n"
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    page.get_by_label("Packet (.zip)").set_input_files(str(tampered))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verify-result")).to_contain_text("NOT intact")
    expect(page.locator("tr.file-mismatch")).to_contain_text("README.txt")

    # Not a zip: refused with a message, nothing written.
    before = AuditEvent.objects.count()
    page.get_by_label("Packet (.zip)").set_input_files(
        {"name": "notes.zip", "mimeType": "application/zip", "buffer": b"just some text"})
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verify-refusal")).to_contain_text("This is not a zip file")
    assert AuditEvent.objects.count() == before


@pytest.fixture
def validated(under_validation, validator, developer):
    from governance.services.review import finding_raise
    from governance.services.workflow import version_transition
    from tests.conftest import PASSWORD

    version = under_validation.version
    finding_raise(actor=validator, version=version, title="Oil tail thin", description="seen in the holdout",
                  severity="medium", owner=developer, due_date=dt.date(2027, 6, 30))
    return version_transition(actor=validator, version=version, action="validate", password=PASSWORD,
                              reason="validated on the holdout")


def test_an_approver_approves_from_the_queue_and_the_auditor_is_refused(validated, approver, auditor, open_page,
                                                                        sign_in, screenshot):
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    # The auditor: the queue is not theirs (403 page), and nothing changes.
    page = open_page()
    page.goto("/approvals/")
    sign_in(page, "aud")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    validated.refresh_from_db()
    assert validated.status == "validated"

    page = open_page()
    page.goto("/approvals/")
    sign_in(page, "app")
    section = page.locator(f"#version-{validated.pk}")
    expect(section.locator("table.approval-evidence tbody tr")).to_have_count(1)
    expect(section.locator(".severity-counts")).to_contain_text("Medium: 1")
    expect(section.locator("table.comparison tr.candidate")).to_contain_text("USD")
    screenshot(page, "approvals")
    readme_screenshot(page, "approvals")

    section.get_by_role("link", name=re.compile("^Approve")).click()
    expect(page.get_by_label(re.compile("^approve"))).to_be_checked()
    page.get_by_label("Reason").fill("fit for the 2027 stress test")
    page.get_by_label("Password (e-signature)").fill(PASSWORD)
    page.get_by_role("button", name="Sign and record").click()
    expect(page.locator(".messages")).to_contain_text("approve recorded")
    validated.refresh_from_db()
    assert validated.status == "approved"
