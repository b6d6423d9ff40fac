"""Publishing audit checkpoints outside the database, and reading them back (issue 16 §6).

Whoever can drop the append-only triggers can rewrite the events after the newest checkpoint,
and, holding the signing key too, re-sign every checkpoint. A checkpoint copied, as soon as it is
committed, to a place that the database's attacker cannot rewrite turns both into detectable
changes. Two such places, chosen by configuration:

1. **The anchor log** (``CRUCIBLE_ANCHOR_LOG=/path``): a JSON-lines file, meant for another mount
   (another disk, an NFS export only this service may append to, a file with ``chattr +a``),
   opened with ``O_APPEND`` for every line (an ``flock`` serialises writers, then ``fsync``). One
   line per checkpoint::

     {"v": 1, "checkpoint_id": 7, "seq": 120, "head_hash": "…", "signed_at": "…", "reason": "…",
      "public_key": "…", "signature": "…", "from_seq": 71, "event_hashes": ["…", …, "…"],
      "published_at": "…"}

   ``event_hashes`` are the hashes of events ``from_seq..seq`` (those since the previous
   checkpoint, at most ``MAX_EVENT_HASHES``; the last one is ``head_hash``), so a rewritten event
   is named exactly; ``signature`` is the checkpoint's Ed25519 signature over
   ``checkpoint_message(seq, head_hash, signed_at, reason)`` and makes a line forged by a third
   party stand out.
2. **An RFC 3161 time-stamp authority** (``CRUCIBLE_TSA_URL``): a ``TimeStampReq`` (RFC 3161 §2.4.1)
   over SHA-256 of the checkpoint message, with a nonce and ``certReq``, built and parsed with the
   maintained ``rfc3161-client`` library; the response (a ``TimeStampResp``) is stored as
   ``AuditCheckpointTimestamp``. Its signature chain is verified against ``CRUCIBLE_TSA_CA_FILE``
   (PEM roots) when that is set. Someone holding the platform key cannot back-date a re-signed
   checkpoint past a TSA token; deleting the token rows, though, is a database write.

Publishing runs after commit (``transaction.on_commit``): the log line at once, in the process
that committed (no broker needed), the TSA request in the ``governance.tasks.audit_checkpoint_timestamp``
task. A line that could not be written (the mount was away) is written later by the beat's
``audit_checkpoint_tick`` (``publish_missing``).

Verification (``verify_anchors``): every published head must be a prefix state of the current
chain: the event at each anchored seq exists and has that hash, and so does every event whose
hash the line lists. The result names the first event whose hash differs.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import signing
from governance.canonical import canonical_json
from governance.models import AuditCheckpoint, AuditEvent
from governance.models.audit import AuditCheckpointTimestamp

logger = logging.getLogger(__name__)

ANCHOR_FORMAT_VERSION = 1
MAX_EVENT_HASHES = 1000  # longer stretches (a checkpoint after a long pause) publish the head only
MAX_TSA_RESPONSE_BYTES = 1024 * 1024
TSA_REQUEST_TYPE = "application/timestamp-query"  # RFC 3161 §3.4
TSA_RESPONSE_TYPE = "application/timestamp-reply"


class AnchorError(Exception):
    """Publishing failed (the log could not be written, the TSA refused or did not answer)."""


def anchor_log_path() -> Path | None:
    raw = str(getattr(settings, "CRUCIBLE_ANCHOR_LOG", "") or "").strip()
    return Path(raw).expanduser() if raw else None


def tsa_url() -> str:
    return str(getattr(settings, "CRUCIBLE_TSA_URL", "") or "").strip()


# --- the anchor log -------------------------------------------------------------------------


def _message(cp: AuditCheckpoint) -> bytes:
    from governance.services.checkpoints import checkpoint_message

    return checkpoint_message(seq=cp.seq, head_hash=cp.head_hash, signed_at=cp.signed_at, reason=cp.reason)


def anchor_record(cp: AuditCheckpoint) -> dict[str, Any]:
    """The anchor-log line for a committed checkpoint (see the module docstring)."""
    previous = (AuditCheckpoint.objects.filter(seq__lt=cp.seq).order_by("-seq")
                .values_list("seq", flat=True).first())
    from_seq = (previous or 0) + 1
    hashes: list[str] | None = None
    if cp.seq - from_seq + 1 <= MAX_EVENT_HASHES:
        hashes = list(AuditEvent.objects.filter(seq__gte=from_seq, seq__lte=cp.seq).order_by("seq")
                      .values_list("hash", flat=True))
        if len(hashes) != cp.seq - from_seq + 1 or (hashes and hashes[-1] != cp.head_hash):
            hashes = None  # the chain under it is already inconsistent: publish the signed head only
    return {
        "v": ANCHOR_FORMAT_VERSION,
        "checkpoint_id": cp.pk,
        "seq": cp.seq,
        "head_hash": cp.head_hash,
        "signed_at": cp.signed_at,
        "reason": cp.reason,
        "public_key": cp.public_key,
        "signature": cp.signature,
        "from_seq": from_seq if hashes is not None else None,
        "event_hashes": hashes,
        "published_at": timezone.now(),
    }


def append_lines(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Append records as JSON lines with ``O_APPEND``, under an exclusive ``flock``, then ``fsync``.

    The file is never opened for writing any other way, so what was published is never
    overwritten by this process (the mount's own protection, e.g. ``chattr +a``, covers others).
    """
    data = b"".join(canonical_json(record).encode("utf-8") + b"\n" for record in records)
    if not data:
        return 0
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    return data.count(b"\n")


@dataclass(frozen=True)
class AnchorLine:
    line_no: int
    record: dict[str, Any]


def read_anchor_log(path: Path) -> tuple[list[AnchorLine], list[str]]:
    """The parsed lines and a problem per unreadable line (``line N: why``)."""
    lines: list[AnchorLine] = []
    problems: list[str] = []
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
                int(record["seq"])
                str(record["head_hash"])
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"anchor log line {line_no} is not a checkpoint record ({exc})")
                continue
            lines.append(AnchorLine(line_no, record))
    return lines, problems


def publish_to_log(checkpoints: Iterable[AuditCheckpoint], path: Path | None = None) -> int:
    path = path or anchor_log_path()
    if path is None:
        return 0
    try:
        return append_lines(path, [anchor_record(cp) for cp in checkpoints])
    except OSError as exc:
        raise AnchorError(f"the anchor log {path} cannot be appended to: {exc.strerror or exc}") from exc


def publish_checkpoint(checkpoint_id: int) -> None:
    """After commit: the log line now, the TSA request as a task. Never raises (logged instead)."""
    cp = AuditCheckpoint.objects.filter(pk=checkpoint_id).first()
    if cp is None:
        return
    try:
        publish_to_log([cp])
    except AnchorError as exc:
        logger.error("checkpoint %s not published yet (the beat retries): %s", checkpoint_id, exc)
    if not tsa_url():
        return
    from governance.health import tasks_inline

    if tasks_inline():
        # The embedded default: one attempt inline (an eager task would retry at once, 8 times).
        try:
            audit_checkpoint_timestamp_fetch(checkpoint_id)
        except AnchorError as exc:
            logger.error("checkpoint %s has no RFC 3161 time-stamp: %s", checkpoint_id, exc)
        return
    from governance.tasks import audit_checkpoint_timestamp

    try:
        audit_checkpoint_timestamp.delay(checkpoint_id)
    except Exception:  # noqa: BLE001 - a broker outage must not fail the committed request
        logger.exception("could not enqueue the RFC 3161 time-stamp of checkpoint %s", checkpoint_id)


def publish_missing(limit: int = 1000) -> int:
    """Append the checkpoints the log lacks (a failed on-commit write); the beat calls this.

    Only checkpoints newer than the oldest one already published (all of them into an empty log):
    the log is not rebuilt from a database that may have been rewritten since.
    """
    path = anchor_log_path()
    if path is None:
        return 0
    published: set[int] = set()
    if path.exists():
        lines, _ = read_anchor_log(path)
        published = {int(line.record["checkpoint_id"]) for line in lines
                     if str(line.record.get("checkpoint_id", "")).isdigit()}
    missing = AuditCheckpoint.objects.order_by("id")
    if published:
        missing = missing.filter(id__gt=min(published)).exclude(id__in=published)
    return publish_to_log(list(missing[:limit]), path)


# --- RFC 3161 ---------------------------------------------------------------------------------


def timestamp_request(message: bytes):
    """A ``TimeStampReq`` (RFC 3161 §2.4.1) over SHA-256 of ``message``, with a nonce and certReq."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    return (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
            .nonce(nonce=True).cert_request(cert_request=True).build())


def _post(url: str, body: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configuration
        url, data=body, method="POST", headers={"Content-Type": TSA_REQUEST_TYPE, "Accept": TSA_RESPONSE_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read(MAX_TSA_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise AnchorError(f"the TSA at {url} did not answer: {exc}") from exc


def check_response(response_der: bytes, *, message: bytes, nonce: int | None):
    """Parse a ``TimeStampResp``; raise ``AnchorError`` unless granted for this message (and nonce)."""
    from rfc3161_client import PKIStatus, decode_timestamp_response

    if len(response_der) > MAX_TSA_RESPONSE_BYTES:
        raise AnchorError("the TSA's answer is larger than 1 MiB")
    try:
        response = decode_timestamp_response(response_der)
    except ValueError as exc:
        raise AnchorError(f"the TSA's answer is not a TimeStampResp: {exc}") from exc
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise AnchorError(f"the TSA refused the request (status {response.status}: {response.status_string})")
    imprint = response.tst_info.message_imprint.message
    if imprint != hashlib.sha256(message).digest():
        raise AnchorError("the TSA's token covers another message")
    if nonce is not None and response.tst_info.nonce != nonce:
        raise AnchorError("the TSA's token does not carry the request's nonce")
    return response


def audit_checkpoint_timestamp_fetch(checkpoint_id: int) -> AuditCheckpointTimestamp | None:
    """Request an RFC 3161 token for a checkpoint and store it (once). Raises ``AnchorError``."""
    url = tsa_url()
    cp = AuditCheckpoint.objects.filter(pk=checkpoint_id).first()
    if not url or cp is None:
        return None
    existing = AuditCheckpointTimestamp.objects.filter(checkpoint=cp).first()
    if existing is not None:
        return existing
    message = _message(cp)
    request = timestamp_request(message)
    timeout = float(getattr(settings, "CRUCIBLE_TSA_TIMEOUT_SECONDS", 10))
    response = check_response(_post(url, request.as_bytes(), timeout), message=message, nonce=request.nonce)
    with transaction.atomic():
        return AuditCheckpointTimestamp.objects.create(
            checkpoint=cp, tsa_url=url, message_imprint=hashlib.sha256(message).hexdigest(),
            gen_time=response.tst_info.gen_time, token=response.as_bytes(), received_at=timezone.now(),
        )


def load_tsa_roots():
    """The TSA root certificates from ``CRUCIBLE_TSA_CA_FILE`` (PEM), or [] when unset."""
    from cryptography import x509

    raw = str(getattr(settings, "CRUCIBLE_TSA_CA_FILE", "") or "").strip()
    if not raw:
        return []
    return x509.load_pem_x509_certificates(Path(raw).expanduser().read_bytes())


def verify_token(token_der: bytes, *, message: bytes, roots) -> str | None:
    """Why a stored token does not vouch for ``message`` (None when it does).

    With ``roots`` the token's CMS signature and certificate chain are verified (rfc3161-client's
    verifier: signer certificate with the critical id-kp-timeStamping EKU, chained to a root).
    """
    from rfc3161_client import VerificationError, VerifierBuilder

    try:
        response = check_response(token_der, message=message, nonce=None)
    except AnchorError as exc:
        return str(exc)
    if not roots:
        return None
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, message)
    except (VerificationError, ValueError) as exc:
        return f"the token's signature does not verify against CRUCIBLE_TSA_CA_FILE: {exc}"
    return None


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorProblem:
    seq: int
    reason: str


@dataclass
class AnchorReport:
    ok: bool = True
    anchor_log: str | None = None
    n_anchors: int = 0
    n_timestamps: int = 0
    newest_anchored_seq: int | None = None
    n_unpublished_checkpoints: int = 0
    problems: list[AnchorProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _event_hashes(seqs: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(seqs)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start:start + 5000]
        found.update(AuditEvent.objects.filter(seq__in=chunk).values_list("seq", "hash"))
    return found


def verify_anchors() -> AnchorReport:
    """Check the chain against every published head (anchor log lines and stored TSA tokens)."""
    report = AnchorReport()
    path = anchor_log_path()
    trusted = signing.trusted_public_keys()
    claims: list[tuple[int, str, str]] = []  # (seq, hash, where it was published)

    if path is None:
        report.notes.append("no anchor log configured (CRUCIBLE_ANCHOR_LOG)")
    elif not path.exists():
        report.problems.append(AnchorProblem(0, f"the anchor log {path} does not exist"))
    else:
        report.anchor_log = str(path)
        lines, unreadable = read_anchor_log(path)
        report.problems.extend(AnchorProblem(0, why) for why in unreadable)
        published_ids: set[int] = set()
        from governance.services.checkpoints import checkpoint_message

        for line in lines:
            rec = line.record
            seq, head_hash = int(rec["seq"]), str(rec["head_hash"])
            where = f"anchor log line {line.line_no} (checkpoint {rec.get('checkpoint_id')}, published " \
                    f"{rec.get('published_at', '?')})"
            try:
                signed_at = dt.datetime.fromisoformat(str(rec["signed_at"]))
                message = checkpoint_message(seq=seq, head_hash=head_hash, signed_at=signed_at,
                                             reason=str(rec["reason"]))
            except (KeyError, ValueError) as exc:
                report.problems.append(AnchorProblem(seq, f"{where}: unreadable ({exc})"))
                continue
            public_key = str(rec.get("public_key", "")).lower()
            if not signing.verify_signature(public_key, message, str(rec.get("signature", ""))):
                report.problems.append(AnchorProblem(seq, f"{where}: the signature does not verify"))
                continue
            if public_key not in trusted:
                report.problems.append(AnchorProblem(seq, f"{where}: signed by a key that is not trusted"))
                continue
            report.n_anchors += 1
            if str(rec.get("checkpoint_id", "")).isdigit():
                published_ids.add(int(rec["checkpoint_id"]))
            claims.append((seq, head_hash, where))
            hashes, from_seq = rec.get("event_hashes"), rec.get("from_seq")
            if isinstance(hashes, list) and isinstance(from_seq, int) and hashes and hashes[-1] == head_hash:
                claims.extend((from_seq + i, str(h), where) for i, h in enumerate(hashes[:-1]))
        newest_published = max(published_ids, default=None)
        if newest_published is not None:
            unpublished = AuditCheckpoint.objects.filter(id__lt=newest_published).exclude(id__in=published_ids)
            report.n_unpublished_checkpoints = unpublished.count()
            if report.n_unpublished_checkpoints:
                report.notes.append(f"{report.n_unpublished_checkpoints} checkpoint(s) older than the newest "
                                    f"published one are not in the anchor log")

    roots = load_tsa_roots()
    timestamps = AuditCheckpointTimestamp.objects.select_related("checkpoint").order_by("id")
    n_tokens = 0
    for ts in timestamps.iterator(chunk_size=500):
        n_tokens += 1
        cp = ts.checkpoint
        why = verify_token(bytes(ts.token), message=_message(cp), roots=roots)
        where = f"RFC 3161 token {ts.id} of checkpoint {cp.id} (genTime {ts.gen_time.isoformat()})"
        if why is not None:
            report.problems.append(AnchorProblem(cp.seq, f"{where}: {why}"))
            continue
        report.n_timestamps += 1
        claims.append((cp.seq, cp.head_hash, where))
    if path is None and not n_tokens:
        report.problems.append(AnchorProblem(
            0, "nothing was published to check against: set CRUCIBLE_ANCHOR_LOG (and/or CRUCIBLE_TSA_URL)"))
    if report.n_timestamps and not roots:
        report.notes.append("RFC 3161 tokens checked against their checkpoints only (CRUCIBLE_TSA_CA_FILE unset)")

    if claims:
        report.newest_anchored_seq = max(seq for seq, _, _ in claims)
        actual = _event_hashes({seq for seq, _, _ in claims})
        chain_end = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        worst: dict[int, AnchorProblem] = {}
        for seq, expected, where in claims:
            found = actual.get(seq)
            if found is None:
                why = (f"event seq {seq} is missing, but {where} published it (the chain ends at seq {chain_end})"
                       if seq > chain_end else f"event seq {seq} is missing, but {where} published it")
            elif found != expected:
                why = (f"event seq {seq} was rewritten: its hash {found[:16]}… differs from {expected[:16]}… "
                       f"published in {where}")
            else:
                continue
            worst.setdefault(seq, AnchorProblem(seq, why))
        report.problems.extend(worst.values())
    report.problems.sort(key=lambda p: p.seq)
    report.ok = not report.problems
    return report
