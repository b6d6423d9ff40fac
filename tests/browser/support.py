"""Helpers the browser tests share: the README's screenshots, and waiting on the job page."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_screenshot(page, name: str) -> Path:
    """One desktop-width screenshot of ``page`` as ``<name>.png``: into docs/screenshots/ (the README's) when
    CRUCIBLE_README_SCREENSHOTS=1, else beside the others under var/screenshots/ — a test run leaves the
    tracked files alone unless asked to refresh them."""
    folder = ROOT / ("docs/screenshots" if os.environ.get("CRUCIBLE_README_SCREENSHOTS") == "1" else "var/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_finished(page, expect, *, timeout_ms: int = 300_000) -> None:
    """The job page refreshes itself until the run ends (meta refresh without JavaScript, polling with it)."""
    expect(page.locator("#job-status")).to_have_text(re.compile(r"Succeeded|Failed|Cancelled"), timeout=timeout_ms)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
