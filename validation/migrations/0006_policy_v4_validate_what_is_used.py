"""Data migration: policy version 4 per model tier — what is used is validated (issue 15).

Adds the thresholds of the new tiers (conformance of conditioned sets, plausibility, the anti-gaming audit,
agreement across versions in use, the generation filter's share, the default coherence rules), re-scales the
predictive MAE ratio around 1, and adds the suite's
settings (``suite_settings``: default coherence rules, plausibility region, adversarial grid, filter share,
family-wise control). Values frozen here, a copy of validation.policy_defaults at the time; each is explained
there.
"""

from django.db import migrations

THRESHOLDS = {
    "1": {
        "conformance_vol_ratio": {
            "threshold": 0.2,
            "warn": 0.4
        },
        "conformance_target": {
            "threshold": 0.2,
            "warn": 0.4
        },
        "plausibility_outside_share": {
            "threshold": 0.008,
            "warn": 0.04
        },
        "adversarial_benign_share": {
            "threshold": 0.0,
            "warn": 0.1
        },
        "severity_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "adversarial_anomalous_cells": {
            "threshold": 0.08,
            "warn": 0.2
        },
        "version_disagreement": {
            "threshold": 0.625,
            "warn": 0.4125
        },
        "conservatism_vs_benchmark": {
            "threshold": 0.25,
            "warn": 0.5
        },
        "filter_removed_share": {
            "threshold": 0.05,
            "warn": 0.05
        },
        "coherence_max_daily_move": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_option_non_negative": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "coherence_put_call_parity": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_strike_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        }
    },
    "2": {
        "conformance_vol_ratio": {
            "threshold": 0.25,
            "warn": 0.5
        },
        "conformance_target": {
            "threshold": 0.25,
            "warn": 0.5
        },
        "plausibility_outside_share": {
            "threshold": 0.01,
            "warn": 0.05
        },
        "adversarial_benign_share": {
            "threshold": 0.0,
            "warn": 0.1
        },
        "severity_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "adversarial_anomalous_cells": {
            "threshold": 0.1,
            "warn": 0.25
        },
        "version_disagreement": {
            "threshold": 0.5,
            "warn": 0.33
        },
        "conservatism_vs_benchmark": {
            "threshold": 0.25,
            "warn": 0.5
        },
        "filter_removed_share": {
            "threshold": 0.05,
            "warn": 0.05
        },
        "coherence_max_daily_move": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_option_non_negative": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "coherence_put_call_parity": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_strike_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        }
    },
    "3": {
        "conformance_vol_ratio": {
            "threshold": 0.3125,
            "warn": 0.625
        },
        "conformance_target": {
            "threshold": 0.3125,
            "warn": 0.625
        },
        "plausibility_outside_share": {
            "threshold": 0.0125,
            "warn": 0.0625
        },
        "adversarial_benign_share": {
            "threshold": 0.0,
            "warn": 0.1
        },
        "severity_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "adversarial_anomalous_cells": {
            "threshold": 0.125,
            "warn": 0.3125
        },
        "version_disagreement": {
            "threshold": 0.4,
            "warn": 0.264
        },
        "conservatism_vs_benchmark": {
            "threshold": 0.25,
            "warn": 0.5
        },
        "filter_removed_share": {
            "threshold": 0.05,
            "warn": 0.05
        },
        "coherence_max_daily_move": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_option_non_negative": {
            "threshold": 0.0,
            "warn": 0.0
        },
        "coherence_put_call_parity": {
            "threshold": 0.0,
            "warn": 0.01
        },
        "coherence_strike_monotone": {
            "threshold": 0.0,
            "warn": 0.0
        }
    }
}
# The predictive MAE ratio's neutral value is 1: tiers scale its distance above 1 (v1-v3 scaled the ratio, and
# tier 1's 0.96 made a perfect generator WARN).
PREDICTIVE = {"1": {"threshold": 1.16, "warn": 1.4}, "2": {"threshold": 1.2, "warn": 1.5},
              "3": {"threshold": 1.25, "warn": 1.625}}
for _tier, _bound in PREDICTIVE.items():
    THRESHOLDS[_tier]["predictive_mae_ratio"] = _bound

SETTINGS = {
    "coherence_defaults": {
        "rates_floor": -1.0,
        "co_move_min_size": 0.1,
        "max_daily_move": {
            "equity": 0.25,
            "commodity": 0.5,
            "fx": 0.2
        },
        "option_parity_tolerance": 0.001
    },
    "plausibility": {
        "chi2_level": 0.9999,
        "tail_share": 0.01
    },
    "adversarial": {
        "paths": 500,
        "quantile": 0.99,
        "severity": [
            "mild",
            "moderate",
            "severe",
            "extreme"
        ],
        "vol_multiplier": [
            1.0,
            1.5,
            2.0,
            3.0
        ],
        "equity_move": [
            -0.05,
            -0.1,
            -0.2,
            -0.35
        ]
    },
    "filter_max_share": 0.05,
    "familywise": {
        "method": "holm",
        "alpha": 0.05,
        "row_size": 0.05,
        "scope": "factors within a metric"
    }
}
NOTE = ("v4: conformance, plausibility, adversarial audit, version agreement, default coherence rules, "
        "NOT_RUN (validation/migrations/0006_policy_v4_validate_what_is_used.py)")


def create(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    for tier in (1, 2, 3):
        latest = Policy.objects.filter(model_tier=tier).order_by("-version").first()
        if latest is None:
            continue
        Policy.objects.create(model_tier=tier, version=latest.version + 1,
                              thresholds=dict(latest.thresholds) | THRESHOLDS[str(tier)],
                              noise_floor=latest.noise_floor, suite_settings=SETTINGS, note=NOTE)


def remove(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    Policy.objects.filter(note=NOTE, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("validation", "0005_outcome_not_run_policy_settings")]
    operations = [migrations.RunPython(create, remove)]
