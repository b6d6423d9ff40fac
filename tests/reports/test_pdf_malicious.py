"""Untrusted text in any model field renders as text, and the renderer fetches nothing it names."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest

from governance.services.inventory import model_create, version_create
from reports.pdf import render as render_module
from reports.services.documents import report_execute, report_pdf_path, report_start

pytestmark = pytest.mark.django_db

IMG = '<img src="file:///etc/passwd">'
LINK = '<link href="http://example.com/x.css" rel="stylesheet">'
SCRIPT = "<script>alert(1)</script><style>@import url(http://example.com/y.css);</style>"


class RecordingFetcher(render_module.RestrictedFetcher):
    """The real fetcher, remembering every URL weasyprint asked for across renders."""

    asked: list[str] = []

    def fetch(self, url, headers=None):
        RecordingFetcher.asked.append(url)
        return super().fetch(url, headers)


def test_malicious_fields_render_as_text_and_fetch_nothing(developer, approver, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    RecordingFetcher.asked = []
    monkeypatch.setattr(render_module, "RestrictedFetcher", RecordingFetcher)
    model = model_create(actor=developer, name=f"Evil {IMG}", purpose=f"Purpose {LINK}",
                         business_line="Markets", family="copula", exposure_usd=Decimal("1000000"),
                         materiality_purpose="informational", limitations=SCRIPT, use_restrictions=IMG + LINK)
    version = version_create(actor=developer, model=model, version="1.0.0", notes=LINK + IMG)
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version)
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "SUCCEEDED", report.error
    text = subprocess.run(["/usr/bin/pdftotext", str(report_pdf_path(report)), "-"], capture_output=True,
                          check=True).stdout.decode()
    nospace = "".join(text.split())
    for payload in (IMG, LINK, "<script>alert(1)</script>"):
        assert "".join(payload.split()) in nospace, payload  # printed literally, as text
    asked = RecordingFetcher.asked
    assert asked, "the renderer must go through the restricted fetcher"
    assert not [u for u in asked if "passwd" in u or "example.com" in u], asked
    # it asked only for its own stylesheet and the figures held in memory for this render
    assert all(u.startswith("crucible-figure:") or u.endswith("/templates/reports/pdf/report.css") for u in asked)
