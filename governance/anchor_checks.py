"""System checks for the anchored audit chain (issue 16 §6): fail at deployment, not at the first signature.

Registered when imported (``GovernanceConfig.ready`` imports this module) as deployment checks, so
``manage.py check --deploy`` (run when a deployment is set up) reports:

* ``governance.E601``: the platform cannot sign (in production: no key configured, or a key
  inside ``VAR_DIR``; an unreadable key anywhere), naming ``CRUCIBLE_SIGNING_KEY_FILE``;
* ``governance.E602``: ``CRUCIBLE_ANCHOR_LOG`` is set but its directory does not exist or is not
  writable;
* ``governance.W603``: the anchor log lies on the same filesystem as ``VAR_DIR`` (the point is
  another mount);
* ``governance.W604``: a TSA is configured without ``CRUCIBLE_TSA_CA_FILE`` (tokens are then
  checked against their checkpoints, not their signatures).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core import checks

from governance import signing
from governance.anchors import anchor_log_path, tsa_url


@checks.register(checks.Tags.security, deploy=True)
def check_signing_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problem = signing.signing_key_problem()
    if problem is None:
        return []
    return [checks.Error(problem, hint=f"set {signing.KEY_FILE_ENV} to a read-only mounted Ed25519 PEM key",
                         id="governance.E601")]


@checks.register(checks.Tags.security, deploy=True)
def check_anchor_targets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    path = anchor_log_path()
    if path is not None:
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            messages.append(checks.Error(f"the anchor log {path} cannot be appended to",
                                         hint="mount the anchor volume, writable by this service",
                                         id="governance.E602"))
        else:
            try:
                same = folder.stat().st_dev == Path(settings.VAR_DIR).stat().st_dev
            except OSError:
                same = False
            if same:
                messages.append(checks.Warning(
                    f"the anchor log {path} is on the same filesystem as {settings.VAR_DIR}",
                    hint="put CRUCIBLE_ANCHOR_LOG on another mount, so whoever rewrites the data cannot rewrite it",
                    id="governance.W603"))
    if tsa_url() and not str(getattr(settings, "CRUCIBLE_TSA_CA_FILE", "") or "").strip():
        messages.append(checks.Warning(
            "CRUCIBLE_TSA_URL is set without CRUCIBLE_TSA_CA_FILE: time-stamp tokens cannot be verified",
            hint="set CRUCIBLE_TSA_CA_FILE to the TSA's root certificates (PEM)", id="governance.W604"))
    return messages
