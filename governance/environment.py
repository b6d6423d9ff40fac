"""The platform's version and the environment a piece of work ran in (recorded on runs)."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

VERSION = "0.1.0"

# Packages whose versions change numerical results; recorded with every training run.
RECORDED_PACKAGES = (
    "torch", "numpy", "pandas", "scipy", "statsmodels", "arch", "pyvinecopulib",
    "shap", "Django", "celery", "pyarrow",
)


@functools.cache
def git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def describe() -> dict:
    return {
        "crucible": VERSION,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }
