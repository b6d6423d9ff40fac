"""Regulatory submission packets: a deterministic, signed zip built around one rendered report.

What a packet holds (names inside the zip):

    report/report.pdf                                the documentation PDF, byte for byte
    scenario_sets/<id>/scenarios.parquet             the stored canonical Parquet (its SHA-256 is the set's)
    scenario_sets/<id>/scenarios.csv                 the same, long format, formula-injection safe
    scenario_sets/<id>/scenario_set.json             engine, configuration, condition, seed, factors, hashes
    scenario_sets/<id>/supervisory_path_fed_layout.csv   the conditioning Fed path in the Fed's own table
                                                     layout (only for sets conditioned on a supervisory path)
    validation/<id>/results.json                     ``validation.services.runs.results_document``
    validation/<id>/metrics.csv                      one row per metric
    stress/<id>/result.json, stress/<id>/pnl.parquet VaR/ES, worst scenarios, distribution; P&L per scenario
    comparison/champion_challenger.csv               every version in use × condition × VaR/ES (as printed)
    comparison/most_conservative.csv                 per condition and measure, the largest loss and its source
    lineage/prov.json                                W3C PROV-JSON of everything upstream of the report
    audit/excerpt.json                               every audit event about an object in that lineage
    README.txt, verify.py, manifest.json, signature.ed25519

Determinism: a packet built twice from the same report is byte-identical. Everything in it is a
pure function of rows that do not change once the report is rendered; the packet's own audit
events and lineage node are not in it, and the audit excerpt stops at the report's last event
(``_audit_cutoff``), with the chain head *as of* that event and the latest signed checkpoint at or
before it (later events and checkpoints would otherwise make two builds differ).
"""

from __future__ import annotations

import csv
import io
import math
import pathlib
import re
import socket
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db.models import Max, Q

from governance import signing
from governance.access import is_version_developer, require_any_role, visible_versions
from governance.artifacts import artifact_root, read_bytes, store_bytes
from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.errors import Conflict, Forbidden, NotFound
from governance.models import AuditCheckpoint, AuditEvent, Evidence, Finding, ModelVersion, RunStatus, Signature
from governance.prov import prov_json_bytes
from governance.roles import ADMIN, APPROVER, AUDITOR, DEVELOPER, REQUESTER_ROLES, VALIDATOR
from governance.selectors.lineage import MAX_DEPTH, lineage_subgraph
from governance.services import run_state
from governance.services.audit import HASHED_FIELDS, audit_record, event_payload
from governance.services.checkpoints import checkpoint_message
from governance.services.lineage import lineage_agent, lineage_entity, lineage_record_activity
from reports.citations import require_validated
from reports.models import Packet, Report
from reports.packet import manifest as manifest_module
from reports.packet import verify as verifier
from reports.packet.zipwrite import deterministic_zip
from scenarios import scenario_files
from scenarios.engines import fed_tables

PACKET_ROLES = (DEVELOPER, VALIDATOR, APPROVER, AUDITOR, ADMIN)
INDEPENDENT_ROLES = frozenset({VALIDATOR, APPROVER, AUDITOR, ADMIN})
VERIFY_SOURCE = pathlib.Path(verifier.__file__)


@dataclass(frozen=True)
class PacketCheck:
    """What checking a packet found: ``ok``, a message, the first file that does not match."""

    ok: bool
    message: str
    file: str | None = None
    unusable: bool = False
    signature_checked: bool = False
    public_key: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


# ── access ──────────────────────────────────────────────────────────────────────────────────
def require_packet_access(actor, version) -> None:
    """Developers of the version, validators, approvers, auditors, admins; 404 for what they cannot see."""
    held = require_any_role(actor, *PACKET_ROLES)
    if not visible_versions(actor).filter(pk=version.pk).exists():
        raise NotFound(f"model version {version.pk} not found")
    if not held & INDEPENDENT_ROLES and not is_version_developer(actor, version):
        raise Forbidden("only the version's developers, validators, approvers, auditors or admins may do this")


# ── start / execute ─────────────────────────────────────────────────────────────────────────
def packet_start(*, actor, report: Report) -> Packet:
    """Request the packet of a SUCCEEDED report; refused (409, audited) when the report cites a set that has
    not been validated — checked before anything is written, so the refusal's audit event stands."""
    require_any_role(actor, *REQUESTER_ROLES)  # the auditor reads and downloads packets, requests none
    require_packet_access(actor, report.model_version)
    report = Report.objects.select_related("model_version").get(pk=report.pk)
    if report.status != RunStatus.SUCCEEDED:
        raise Conflict(f"report {report.pk} is {report.status}: a packet needs a SUCCEEDED report",
                       code="report_not_ready")
    cited = {s.pk: s for s in report.scenario_sets.all()}
    cited |= {r.scenario_set_id: r.scenario_set for r in report.stress_results.select_related("scenario_set")}
    require_validated(actor=actor, scenario_sets=[cited[k] for k in sorted(cited)], what="the packet",
                      object_type="report", object_id=report.pk, action="packet.refused")
    return _packet_create(actor=actor, report=report)


def _packet_create(*, actor, report: Report) -> Packet:
    return run_state.run_start(Packet, actor=actor, action="packet.requested",
                               audit_after={"report": report.pk, "report_sha256": report.sha256},
                               report=report, model_version=report.model_version, seed=0).run


def audit_record_packet(actor, action: str, packet: Packet, *, after: Any = None) -> None:
    audit_record(actor=actor, action=action, object_type="packet", object_id=packet.pk, after=after)


def packet_execute(packet_id: int, *, worker: str | None = None) -> None:
    """The worker's side, run by the kernel: build the zip, store it, record lineage and audit — or end
    FAILED (``packet.failed``) or CANCELLED (``packet.cancelled``)."""
    run_state.run_execute(Packet, packet_id, worker=worker or socket.gethostname(), body=_build,
                          queryset=Packet.objects.select_related("report", "model_version__model", "created_by"))


def _build(packet: Packet, lease: run_state.RunLease) -> None:
    worker = lease.worker
    lease.progress(0.1, stage="collecting")
    members, manifest = packet_members(packet.report)
    lease.progress(0.8, stage="zipping")
    blob = deterministic_zip(members)
    path, sha = store_bytes(blob, suffix=".zip")
    with lease.completing() as done:
        packet = done.run
        packet.sha256, packet.size_bytes, packet.storage_path = sha, len(blob), path
        packet.manifest_sha256 = sha256_hex(members[verifier.MANIFEST_NAME])
        packet.files, packet.lineage_ids = manifest["files"], manifest["lineage_ids"]
        done.succeed(action="packet.built",
                     after={"report": packet.report_id, "sha256": sha, "size_bytes": len(blob),
                            "manifest_sha256": packet.manifest_sha256, "files": len(packet.files)})
        entity = lineage_entity(uid=packet.lineage_uid, kind="packet", label=f"submission packet {packet.pk}",
                                sha256=sha, object_type="packet", object_id=packet.pk, actor=packet.created_by)
        lineage_record_activity(
            activity_uid=f"packet_build:{packet.pk}", kind="packet_build", label=f"packet build {packet.pk}",
            used=[packet.report.lineage_uid], generated=[entity],
            agents=[packet.created_by, lineage_agent(uid=f"worker:{_uid_safe(worker)[:80]}", kind="worker",
                                                     label=worker)],
            object_type="packet", object_id=packet.pk, actor=packet.created_by,
            attributes={"manifest_sha256": packet.manifest_sha256},
        )


def _uid_safe(text: str) -> str:
    """A worker name as lineage uids allow it (letters, digits and . _ @ + : = ~ -)."""
    return re.sub(r"[^A-Za-z0-9._@+:=~-]", "_", text) or "worker"


def packet_path(packet: Packet) -> pathlib.Path:
    if packet.status != RunStatus.SUCCEEDED or not packet.storage_path:
        raise Conflict(f"packet {packet.pk} is {packet.status}: there is no zip yet", code="packet_not_ready")
    return artifact_root() / packet.storage_path


def packet_verify(path) -> PacketCheck:
    """The check ``verify.py`` inside the packet does (the same code), on a zip or an unzipped folder."""
    result = verifier.verify(str(path))
    public_key = next((note.split()[2] for note in result.notes if note.startswith("public key: ")), None)
    return PacketCheck(ok=result.ok, message=result.message, file=result.file, unusable=result.unusable,
                       signature_checked=result.signature_checked, public_key=public_key, notes=tuple(result.notes))


# ── the contents ────────────────────────────────────────────────────────────────────────────
def _json_bytes(value: Any) -> bytes:
    return canonical_json(jsonable(value)).encode("utf-8")


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """CSV with every text cell made formula-safe; numbers in their shortest exact form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([scenario_files.safe_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "" if isinstance(value, float) and not math.isfinite(value) else repr(value)
    if not isinstance(value, str):
        value = canonical_json(jsonable(value))
    return scenario_files.safe_csv_cell(value)


def _set_validations(scenario_set, report: Report) -> list[dict]:
    """The set's SUCCEEDED validation runs finished by the time the report was (later runs are not the
    report's evidence, and would make two builds of one packet differ)."""
    from validation.models import ValidationRun
    from validation.outcomes import not_run_tiers

    runs = ValidationRun.objects.filter(scenario_set=scenario_set, status=RunStatus.SUCCEEDED).order_by("pk")
    if report.finished_at is not None:
        runs = runs.filter(Q(finished_at__lte=report.finished_at) | Q(reports=report))
    return [{"run": run.pk, "outcome": run.outcome, "tier_outcomes": run.tier_outcomes or {},
             "not_run_tiers": not_run_tiers(run.tier_outcomes or {})} for run in runs.distinct()]


def _scenario_set_files(scenario_set, report: Report | None = None) -> dict[str, bytes]:
    prefix = f"scenario_sets/{scenario_set.pk}"
    parquet = read_bytes(scenario_set.storage_path, expected_sha256=scenario_set.sha256)
    array, factors = scenario_files.read_canonical(parquet)
    files = {
        f"{prefix}/scenarios.parquet": parquet,
        f"{prefix}/scenarios.csv": scenario_files.to_csv_bytes(array, factors),
        f"{prefix}/scenario_set.json": _json_bytes({
            "id": scenario_set.pk, "name": scenario_set.name, "source": scenario_set.source,
            "purpose": scenario_set.purpose, "engine": scenario_set.engine, "engine_config": scenario_set.engine_config,
            "condition": scenario_set.condition, "seed": scenario_set.seed, "factors": scenario_set.factors,
            "n_scenarios": scenario_set.n_scenarios, "horizon": scenario_set.horizon, "sha256": scenario_set.sha256,
            "size_bytes": scenario_set.size_bytes, "generation_run": scenario_set.generation_run_id,
            "model_version": scenario_set.model_version_id, "dataset": scenario_set.dataset_id,
            "created_at": scenario_set.created_at,
            "out_of_training_range": bool(getattr(scenario_set, "out_of_training_range", False)),
            "out_of_range_reason": getattr(scenario_set, "out_of_range_reason", "") or "",
            "condition_bounds": getattr(scenario_set, "condition_bounds", None) or {},
            "filter_report": getattr(scenario_set, "filter_report", None) or {},
            "validation": _set_validations(scenario_set, report) if report is not None else [],
        }),
    }
    fed = fed_layout_bytes(scenario_set.condition)
    if fed is not None:
        files[f"{prefix}/supervisory_path_fed_layout.csv"] = fed
    return files


def fed_layout_bytes(condition: dict | None) -> bytes | None:
    """The supervisory path a set was conditioned on (``condition.extra.fed_path``, as recorded by
    ``scenarios.services.runs.parse_condition``) in the Fed table's column layout; None when unconditioned.

    Only the path's Fed variables are written (names the Fed layout recognises); the scenario name is
    the path's own (e.g. "Supervisory Severely Adverse").
    """
    fed_path = ((condition or {}).get("extra") or {}).get("fed_path")
    if not isinstance(fed_path, dict) or not fed_path.get("quarters"):
        return None
    columns = {}
    for name, values in (fed_path.get("variables") or {}).items():
        try:
            fed_tables.parse_unit(str(name))
        except ValueError:
            continue
        columns[str(name)] = [math.nan if v is None else float(v) for v in values]
    name = str(fed_path.get("scenario_name") or "Supervisory Severely Adverse")
    frame = pd.DataFrame(columns, index=list(fed_path["quarters"]))
    text = fed_tables.fed_layout_csv(frame, name)
    # The Fed layout writes its own cells; the first column holds the scenario name, which a
    # spreadsheet must not run either.
    rows = list(csv.reader(io.StringIO(text)))
    safe = io.StringIO()
    writer = csv.writer(safe, lineterminator="\n")
    for row in rows:
        writer.writerow([scenario_files.safe_csv_cell(cell) if i < 2 else cell for i, cell in enumerate(row)])
    return safe.getvalue().encode("utf-8")


METRIC_COLUMNS = ["tier", "name", "factor", "value", "pvalue", "threshold", "warn", "direction", "outcome"]


def _validation_files(run) -> dict[str, bytes]:
    from validation.services.runs import results_document

    document = results_document(run)
    prefix = f"validation/{run.pk}"
    rows = [[metric.get(column) for column in METRIC_COLUMNS] for metric in document["metrics"]]
    return {f"{prefix}/results.json": _json_bytes(document), f"{prefix}/metrics.csv": _csv_bytes(METRIC_COLUMNS, rows)}


def _stress_files(stress) -> dict[str, bytes]:
    prefix = f"stress/{stress.pk}"
    portfolio = stress.portfolio
    return {
        f"{prefix}/result.json": _json_bytes({
            "id": stress.pk, "scenario_set": stress.scenario_set_id, "scenario_set_sha256": stress.scenario_set.sha256,
            "portfolio": {"id": portfolio.pk, "name": portfolio.name, "version": portfolio.version,
                          "sha256": portfolio.sha256, "positions": portfolio.positions},
            "levels": stress.levels, "risk": stress.risk, "worst": stress.worst, "distribution": stress.distribution,
            "pnl_sha256": stress.pnl_sha256, "created_at": stress.created_at,
        }),
        f"{prefix}/pnl.parquet": read_bytes(stress.pnl_path, expected_sha256=stress.pnl_sha256),
    }


COMPARISON_COLUMNS = ["model", "portfolio_id", "portfolio_name", "portfolio_sha256", "version_id", "version",
                      "engine", "role", "status", "condition", "scenario_set", "stress_result", "var_99", "es_99",
                      "var_995", "es_995", "validated", "validation_outcome", "flagged_measures"]
CONSERVATIVE_COLUMNS = ["condition", "measure", "value", "source"]


def report_comparison(report: Report) -> dict | None:
    """The champion/challenger table the report printed (recorded in its ``report.rendered`` audit event);
    for a report rendered before that record existed, the table as it stands now."""
    event = (AuditEvent.objects.filter(object_type="report", object_id=str(report.pk), action="report.rendered")
             .order_by("-seq").first())
    if event is not None and isinstance(event.after, dict) and "comparison" in event.after:
        return event.after["comparison"]
    try:
        from scenarios.services.comparison import comparison_table
    except ImportError:
        return None
    return jsonable(comparison_table(model=report.model_version.model, include=[report.model_version]))


def _comparison_files(report: Report) -> dict[str, bytes]:
    """``comparison/champion_challenger.csv`` (every row of the table) and ``comparison/most_conservative.csv``
    (per condition and measure, the largest loss and the version it came from)."""
    table = report_comparison(report)
    if table is None:
        return {}
    portfolio = table.get("portfolio") or {}
    flagged: dict[tuple[str, str], list[str]] = {}
    for flag in table.get("disagreement") or []:
        if flag.get("flagged"):
            flagged.setdefault((flag["condition"], flag["version"]), []).append(flag["measure"])
    rows = []
    for row in table.get("rows") or []:
        label = f"{row['role']} v{row['version']}" if row.get("role") else f"v{row['version']}"
        rows.append([table.get("model"), portfolio.get("id"), portfolio.get("name"), portfolio.get("sha256"),
                     *[row.get(c) for c in COMPARISON_COLUMNS[4:-1]],
                     ";".join(flagged.get((row.get("condition"), label), []))])
    conservative = []
    for condition, best in (table.get("most_conservative") or {}).items():
        for measure in ("var_99", "es_99", "var_995", "es_995"):
            if measure in best:
                conservative.append([condition, measure, best.get(measure), best.get(f"{measure}_from")])
    return {"comparison/champion_challenger.csv": _csv_bytes(COMPARISON_COLUMNS, rows),
            "comparison/most_conservative.csv": _csv_bytes(CONSERVATIVE_COLUMNS, conservative)}


def _audit_cutoff(report: Report) -> int:
    """The last audit sequence number the excerpt covers: the report's own last event, or the last
    event at or before the report finished (whichever is later); later events are not the report's."""
    about = AuditEvent.objects.filter(object_type="report", object_id=str(report.pk)).aggregate(m=Max("seq"))["m"]
    before = None
    if report.finished_at is not None:
        before = AuditEvent.objects.filter(timestamp__lte=report.finished_at).aggregate(m=Max("seq"))["m"]
    candidates = [seq for seq in (about, before) if seq is not None]
    if not candidates:
        raise Conflict(f"report {report.pk} has no audit trail to excerpt", code="no_audit_trail")
    return max(candidates)


def _version_records(version_ids: set[int]) -> set[tuple[str, str]]:
    """The governance records hanging off the lineage's model versions (no lineage nodes of their own):
    the inventory model, e-signatures, findings, evidence — the review trail a regulator reads."""
    records: set[tuple[str, str]] = set()
    for model_id in ModelVersion.objects.filter(pk__in=version_ids).values_list("model__model_id", flat=True):
        records.add(("model", str(model_id)))
    for object_type, model_cls in (("signature", Signature), ("finding", Finding), ("evidence", Evidence)):
        for pk in model_cls.objects.filter(version_id__in=version_ids).values_list("pk", flat=True):
            records.add((object_type, str(pk)))
    return records


def audit_excerpt(report: Report, nodes, edges) -> dict[str, Any]:
    """Every audit event about an object in the lineage (up to the cutoff) with seq, prev_hash, hash —
    the objects the nodes stand for, the lineage nodes and edges themselves, the review records of the
    model versions — the chain head as of the cutoff, and the latest signed checkpoint at or before it."""
    cutoff = _audit_cutoff(report)
    objects = {(node.object_type, str(node.object_id)) for node in nodes if node.object_type}
    objects |= {("lineage_node", node.uid) for node in nodes}
    objects |= {("lineage_edge", str(edge.pk)) for edge in edges}
    objects.add(("report", str(report.pk)))
    objects |= _version_records({int(i) for t, i in objects if t == "model_version" and i.isdigit()})
    by_type: dict[str, list[str]] = {}
    for object_type, object_id in sorted(objects):
        by_type.setdefault(object_type, []).append(object_id)
    condition = Q(pk__in=[])
    for object_type, object_ids in by_type.items():
        condition |= Q(object_type=object_type, object_id__in=object_ids)
    events = []
    for event in AuditEvent.objects.filter(condition, seq__lte=cutoff).order_by("seq"):
        events.append(jsonable(event_payload(event)) | {"prev_hash": event.prev_hash, "hash": event.hash})
    head = AuditEvent.objects.get(seq=cutoff)
    checkpoint = AuditCheckpoint.objects.filter(seq__lte=cutoff).order_by("-seq", "-id").first()
    checkpoint_doc = None
    if checkpoint is not None:
        message = checkpoint_message(seq=checkpoint.seq, head_hash=checkpoint.head_hash,
                                     signed_at=checkpoint.signed_at, reason=checkpoint.reason)
        checkpoint_doc = {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "signed_at": checkpoint.signed_at,
                          "reason": checkpoint.reason, "public_key": checkpoint.public_key,
                          "signature": checkpoint.signature, "signed_message": message.decode("utf-8")}
    return jsonable({
        "about": "audit events about every object in lineage/prov.json (and its lineage nodes and edges) and "
                 "the review records of its model versions (model, e-signatures, findings, evidence), oldest first",
        "hash_rule": "hash = SHA-256(canonical_json({" + ", ".join(HASHED_FIELDS) + "}) + prev_hash); "
                     "canonical JSON: keys sorted, separators (',', ':'), UTF-8, no NaN",
        "objects": [{"object_type": t, "object_id": i} for t, i in sorted(objects)],
        "cutoff_seq": cutoff,
        "chain_head": {"seq": head.seq, "hash": head.hash, "as_of": "the last event the excerpt covers"},
        "checkpoint": checkpoint_doc,
        "events": events,
    })


def _readme(subject: dict[str, Any], names: list[str]) -> bytes:
    lines = [
        "Crucible regulatory submission packet",
        "=====================================",
        "",
        f"Model {subject['model']} version {subject['model_version']} (version id {subject['model_version_id']}),",
        f"documentation report {subject['report']} (PDF SHA-256 {subject['report_sha256']}).",
        "",
        "Check it offline, in this folder:   python verify.py",
        "(standard library only; the Ed25519 signature is checked when the 'cryptography' package is",
        "installed, and the verifier says so plainly when it is not). Exit 0: intact; 1: a file was",
        "changed, added or removed (the message names the first one).",
        "",
        "manifest.json lists every file with its SHA-256 and size, the lineage ids and the public key;",
        "signature.ed25519 is the platform's Ed25519 signature of the bytes of manifest.json. Compare the",
        "public key with the one the platform publishes.",
        "",
        "CSV files: text cells that a spreadsheet would run as a formula (starting with = + - @) are",
        "prefixed with a single quote.",
        "",
        "Files:",
        *[f"  {name}" for name in names],
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def packet_members(report: Report) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Every file of the packet (name → bytes) and the manifest document; a pure function of the
    report's recorded inputs (see the module docstring)."""
    report = Report.objects.select_related("model_version__model").get(pk=report.pk)
    if report.status != RunStatus.SUCCEEDED or not report.storage_path:
        raise Conflict(f"report {report.pk} is {report.status}: a packet needs a SUCCEEDED report",
                       code="report_not_ready")
    version = report.model_version
    files: dict[str, bytes] = {"report/report.pdf": read_bytes(report.storage_path, expected_sha256=report.sha256)}
    scenario_sets = list(report.scenario_sets.order_by("pk"))
    validation_runs = list(report.validation_runs.select_related("scenario_set", "policy").order_by("pk"))
    stress_results = list(report.stress_results.select_related("scenario_set", "portfolio").order_by("pk"))
    for scenario_set in scenario_sets:
        files |= _scenario_set_files(scenario_set, report)
    files |= _comparison_files(report)
    for run in validation_runs:
        files |= _validation_files(run)
    for stress in stress_results:
        files |= _stress_files(stress)

    try:
        nodes, edges = lineage_subgraph(uid=report.lineage_uid, direction="up", depth=MAX_DEPTH)
    except NotFound as error:
        raise Conflict(f"report {report.pk} has no lineage node {report.lineage_uid}", code="no_lineage") from error
    files["lineage/prov.json"] = prov_json_bytes(nodes, edges)
    files["audit/excerpt.json"] = _json_bytes(audit_excerpt(report, nodes, edges))
    files["verify.py"] = VERIFY_SOURCE.read_bytes()

    subject = {
        "model": version.model.model_id, "model_version": version.version, "model_version_id": version.pk,
        "report": report.pk, "report_sha256": report.sha256, "report_finished_at": report.finished_at,
        "scenario_sets": [s.pk for s in scenario_sets], "validation_runs": [r.pk for r in validation_runs],
        "stress_results": [s.pk for s in stress_results],
    }
    names = sorted([*files, "README.txt", verifier.MANIFEST_NAME, verifier.SIGNATURE_NAME])
    files["README.txt"] = _readme(subject, names)
    public_key = signing.platform_public_key_hex()
    manifest = manifest_module.build_manifest(files=files, lineage_ids=[node.uid for node in nodes],
                                              public_key_hex=public_key, subject=jsonable(subject))
    manifest_raw = manifest_module.manifest_bytes(manifest)
    files[verifier.MANIFEST_NAME] = manifest_raw
    files[verifier.SIGNATURE_NAME] = manifest_module.signature_text(signing.sign_bytes(manifest_raw))
    return files, manifest
