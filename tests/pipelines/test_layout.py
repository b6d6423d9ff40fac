"""Issue 16 §1: the orchestration lives in its own top app, ``reports`` only renders, no test utility runs in
production code, and the import contracts (layers and the pure modules) hold."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_PACKAGES = ("config", "portal", "pipelines", "reports", "validation", "scenarios", "governance", "bench")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_production_module_imports_the_django_test_utilities():
    """``override_settings`` and the rest of ``django.test`` are for tests: production code takes explicit
    parameters instead (import-linter cannot forbid a subpackage of an external package, hence this scan)."""
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for package in PRODUCTION_PACKAGES for path in (ROOT / package).rglob("*.py")
        for name in _imported_modules(path) if name == "django.test" or name.startswith("django.test."))
    assert offenders == []


def test_the_demo_and_run_pipeline_commands_belong_to_the_pipelines_app():
    commands = get_commands()
    assert commands["demo"] == "pipelines"
    assert commands["run_pipeline"] == "pipelines"
    assert commands["build_packet"] == "reports"  # rendering stays in reports


def test_reports_holds_no_orchestration_module():
    assert importlib.util.find_spec("reports.pipeline") is None
    assert importlib.util.find_spec("reports.services.pipeline") is None
    assert importlib.util.find_spec("pipelines.services") is not None


def test_the_import_contracts_hold_with_the_pipelines_layer_and_the_pure_modules():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = " ".join(result.stdout.split())  # contract names are wrapped at 80 columns
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in (
        "Apps depend downward only: config -> portal -> pipelines -> reports -> validation -> scenarios -> "
        "governance KEPT",
        "Only the portal and config may import pipelines: reports renders, it does not orchestrate KEPT",
        "validation.suite and validation.outcomes are pure",
        "scenarios.datasets and scenarios.scenario_files are pure",
    ):
        assert contract in report, contract
    assert "0 broken" in report
