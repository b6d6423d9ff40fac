from decimal import Decimal

import pytest

from governance import tiering


@pytest.mark.parametrize(
    ("exposure", "purpose", "tier"),
    [
        ("5000000000", "regulatory_capital", 1),
        ("1000000000", "risk_management", 1),
        ("1000000000", "informational", 2),
        ("999999999.99", "regulatory_stress", 1),
        ("100000000", "business_decision", 2),
        ("100000000", "informational", 3),
        ("99999999.99", "regulatory_stress", 2),
        ("5000", "risk_management", 3),
        ("0", "informational", 3),
    ],
)
def test_the_tier_matrix(exposure, purpose, tier):
    assert tiering.compute_tier(Decimal(exposure), purpose) == tier


def test_review_frequency_is_stricter_for_higher_tiers():
    f = tiering.REVIEW_FREQUENCY_MONTHS
    assert f[1] < f[2] < f[3]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="unknown materiality purpose 'gambling'"):
        tiering.compute_tier(Decimal(1), "gambling")
    with pytest.raises(ValueError, match="negative"):
        tiering.compute_tier(Decimal(-1), "informational")
