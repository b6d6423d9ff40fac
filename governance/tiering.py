"""Model materiality → risk tier: a documented, versioned rule (SR 26-2 / SR 11-7 approach).

SR 11-7 asks that the rigour of model risk management be commensurate with the model's
materiality; SR 26-2 (2026) makes the tiering explicit: *exposure* (how much money the model's
output touches) crossed with *purpose* (how consequential the decision it informs is).

Rule ``tier-matrix/2026.1``:

    exposure band     regulatory purpose   risk mgmt / business   informational
    >= USD 1bn               1                     1                    2
    >= USD 100m              1                     2                    3
    <  USD 100m              2                     3                    3

Tier 1 is the highest risk. The tier drives the validation policy (thresholds, tier 1 strictest)
and the review frequency below. A manual override is allowed with a reason and is audited.
Changing the matrix means a new RULE_VERSION; every model stores the version it was tiered by.
"""

from __future__ import annotations

from decimal import Decimal

RULE_VERSION = "tier-matrix/2026.1"

# The model fields this rule reads. Once a model has a version past draft, changing any of them is a
# tier change request decided by a validator or an admin (governance.services.tier_changes).
TIER_INPUTS = ("exposure_usd", "materiality_purpose")

HIGH_EXPOSURE = Decimal("1000000000")
MEDIUM_EXPOSURE = Decimal("100000000")

PURPOSE_IMPACT = {
    "regulatory_capital": "regulatory",
    "regulatory_stress": "regulatory",
    "risk_management": "business",
    "business_decision": "business",
    "informational": "informational",
}

MATRIX = {
    ("high", "regulatory"): 1, ("high", "business"): 1, ("high", "informational"): 2,
    ("medium", "regulatory"): 1, ("medium", "business"): 2, ("medium", "informational"): 3,
    ("low", "regulatory"): 2, ("low", "business"): 3, ("low", "informational"): 3,
}

# Months between periodic validations, by tier.
REVIEW_FREQUENCY_MONTHS = {1: 12, 2: 24, 3: 36}


def exposure_band(exposure_usd: Decimal) -> str:
    exposure = Decimal(exposure_usd)
    if exposure < 0:
        raise ValueError("exposure cannot be negative")
    if exposure >= HIGH_EXPOSURE:
        return "high"
    if exposure >= MEDIUM_EXPOSURE:
        return "medium"
    return "low"


def compute_tier(exposure_usd: Decimal, purpose: str) -> int:
    try:
        impact = PURPOSE_IMPACT[purpose]
    except KeyError:
        raise ValueError(f"unknown materiality purpose {purpose!r}; use one of {sorted(PURPOSE_IMPACT)}") from None
    return MATRIX[(exposure_band(exposure_usd), impact)]
