"""What a finished ``demo --quick`` must show, checked against the database and the files themselves."""

from __future__ import annotations

import subprocess
from pathlib import Path

from governance.audit_verify import verify_audit_chain
from governance.models import Evidence, Signature
from governance.models.review import Outcome

OUTCOMES = {"PASS", "WARN", "FAIL"}


def check_demo_outcome(summary: dict) -> None:
    from reports.models import Packet, Report
    from reports.services.packets import packet_verify

    # Per-tier outcomes: every validated version judged under each model tier's policy, and its suite tiers.
    assert set(summary["validation"]) == {"champion", "challenger", "crisis"}
    for role, entry in summary["validation"].items():
        assert entry["outcome"] in OUTCOMES, role
        assert set(entry["outcome_per_policy_tier"]) == {"1", "2", "3"}
        assert all(v["outcome"] in OUTCOMES for v in entry["outcome_per_policy_tier"].values())
        # The model's own tier governs: its entry is the outcome the run recorded.
        own = entry["outcome_per_policy_tier"][str(summary["model"]["tier"])]["outcome"]
        assert own == entry["outcome"], (role, own, entry["outcome"])
        assert {"univariate", "risk_backtest", "discriminative", "crisis"} <= set(entry["tier_outcomes"])

    # What the stress figures use is validated too (issue 15): the severe sets and the Fed translation, each
    # judged on conformance, plausibility and coherence.
    conditioned = summary["conditioned_validation"]
    assert {"champion/severe", "challenger/severe"} <= set(conditioned)
    assert any(key.startswith("supervisory/") for key in conditioned)
    for key, entry in conditioned.items():
        assert {"conformance", "plausibility", "coherence"} <= set(entry["tier_outcomes"]), key
        assert entry["outcome"] in OUTCOMES, key
        assert set(entry["not_run_tiers"]) == {t for t, o in entry["tier_outcomes"].items() if o == "NOT_RUN"}

    # The decision follows the evidence of every run of the version, signed by people other than the developer.
    for role, decision in summary["review"]["decisions"].items():
        runs = [summary["validation"][role], *summary["validation"][role]["conditioned"].values()]
        version_id = summary["versions"][role]["id"]
        passing = Evidence.objects.filter(version_id=version_id, outcome__in=[Outcome.PASS, Outcome.WARN]).exists()
        assert passing == any(r["outcome"] in ("PASS", "WARN") for r in runs)
        assert (decision["validator"] == "validate") == all(r["outcome"] in ("PASS", "WARN") for r in runs)
        expected = {"validate": {"in_use", "validated"}, "request_changes": {"changes_requested"}}
        assert decision["status"] in expected[decision["validator"]]
        signers = dict(Signature.objects.filter(version_id=version_id).values_list("action", "signer_username"))
        assert signers["submit"] == summary["users"]["developer"]
        assert signers[decision["validator"]] == summary["users"]["validator"]
        if decision["status"] == "in_use":
            assert signers["approve"] == summary["users"]["approver"]
    assert summary["review"]["findings"], "the validator records at least one finding"

    # VaR/ES with the most conservative figure across champion and challenger.
    conservative = summary["stress"]["most_conservative"]["severe"]
    rows = [r for r in summary["stress"]["rows"] if r["condition"] == "severe" and r["role"] != "supervisory"]
    assert conservative["var_99"] == max(r["var_99"] for r in rows) > 0
    # The governed comparison (roles set by the approver) is what the PDF and the packet carry.
    comparison = summary["comparison"]
    in_use = {role for role, d in summary["review"]["decisions"].items() if d["status"] == "in_use"}
    assert {r["version"] for r in comparison["rows"]} >= {summary["versions"][role]["version"] for role in in_use}

    # The PDF: on disk where the summary says, and its text shows every section title.
    report = Report.objects.get(pk=summary["report"]["id"])
    pdf = Path(summary["outputs"]["report"])
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert report.sections, "the report lists its sections"
    for title in report.sections:
        assert " ".join(title.split()) in flat, title

    # The packet verifies (independently of the summary's own claim), and the audit chain is intact.
    packet = Packet.objects.get(pk=summary["packet"]["id"])
    assert packet.status == "SUCCEEDED"
    check = packet_verify(Path(summary["outputs"]["packet"]))
    assert check.ok, check.message
    assert summary["packet"]["verified"] is True
    audit = verify_audit_chain()
    assert audit.ok, audit.reason
    assert summary["audit"]["ok"] and summary["audit"]["head_hash"]
    assert set(summary["timings_s"]) >= {"training", "validation", "report", "packet", "verify", "total"}
