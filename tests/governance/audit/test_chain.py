"""The hash chain: what a hash covers, and that stored values hash the same when read back."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.canonical import canonical_json
from governance.models import AuditChainHead, AuditEvent
from governance.models.audit import GENESIS_HASH
from governance.services.audit import audit_record, db_stable_json, event_hash, event_payload

pytestmark = pytest.mark.django_db


def _recomputes(event: AuditEvent) -> bool:
    return event_hash(event_payload(event), event.prev_hash) == event.hash


def test_events_form_one_chain_from_genesis(developer):
    events = [
        audit_record(actor=developer, action="model.created", object_type="model", object_id=f"M-{i}",
                     after={"i": i}, reason="because")
        for i in range(5)
    ]
    stored = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS_HASH
    for before, after in zip(stored, stored[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(_recomputes(e) for e in stored)
    assert [e.hash for e in events] == [e.hash for e in stored]
    head = AuditChainHead.objects.get(id=1)
    assert (head.seq, head.hash) == (5, stored[-1].hash)
    assert stored[0].actor_id == developer.id and stored[0].actor_username == "dev"


def test_the_hash_is_sha256_of_canonical_json_then_prev_hash(developer):
    event = audit_record(actor=None, action="x.y", object_type="thing", object_id=7, after={"b": 1, "a": 2})
    text = canonical_json({
        "seq": event.seq, "timestamp": event.timestamp, "actor_id": None, "actor_username": "", "action": "x.y",
        "object_type": "thing", "object_id": "7", "before": None, "after": {"a": 2, "b": 1}, "reason": "",
    })
    assert text.startswith('{"action":"x.y","actor_id":null,"actor_username":"","after":{"a":2,"b":1},')
    assert event.hash == hashlib.sha256((text + GENESIS_HASH).encode("utf-8")).hexdigest()


def test_every_hashed_field_changes_the_hash(developer):
    event = audit_record(actor=developer, action="a.b", object_type="t", object_id="1", after={"v": 1}, reason="r")
    payload = event_payload(event)
    original = event_hash(payload, event.prev_hash)
    for name, value in [("seq", 2), ("timestamp", event.timestamp + dt.timedelta(microseconds=1)),
                        ("actor_id", 999), ("actor_username", "eve"), ("action", "a.c"), ("object_type", "u"),
                        ("object_id", "2"), ("before", {"v": 0}), ("after", {"v": 2}), ("reason", "s")]:
        assert event_hash({**payload, name: value}, event.prev_hash) != original, name
    assert event_hash(payload, "f" * 64) != original


def test_canonical_json_is_stable_for_decimal_date_datetime_uuid():
    paris = dt.timezone(dt.timedelta(hours=2))
    value = {
        "z": decimal.Decimal("1.10"), "a": dt.date(2024, 2, 29),
        "m": dt.datetime(2024, 3, 1, 14, 30, 0, 5, tzinfo=paris), "u": uuid.UUID(int=1), "s": {3, 1, 2},
        "n": None, "t": "é",
    }
    expected = ('{"a":"2024-02-29","m":"2024-03-01T12:30:00.000005+00:00","n":null,"s":[1,2,3],"t":"é",'
                '"u":"00000000-0000-0000-0000-000000000001","z":"1.10"}')
    assert canonical_json(value) == expected
    assert canonical_json(dict(reversed(list(value.items())))) == expected
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_decimal_date_datetime_values_read_back_and_hash_the_same(developer):
    before = {"limit": decimal.Decimal("1000000.00"), "due": dt.date(2025, 12, 31)}
    after = {"limit": decimal.Decimal("0.1"), "signed": dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
             "ratio": 0.1, "rows": [decimal.Decimal("-2.50"), dt.date(2000, 1, 1)]}
    recorded = audit_record(actor=developer, action="model.updated", object_type="model", object_id="M-1",
                            before=before, after=after)
    stored = AuditEvent.objects.get(seq=recorded.seq)
    assert stored.before == {"limit": "1000000.00", "due": "2025-12-31"}
    assert stored.after["signed"] == "2025-01-02T03:04:05.678901+00:00"
    assert stored.after["rows"] == ["-2.50", "2000-01-01"]
    assert stored.hash == recorded.hash and _recomputes(stored)


def test_floats_that_jsonb_would_rewrite_are_stored_in_their_read_back_form(developer):
    # jsonb keeps exact decimals and prints no exponent: 1e16 comes back as an integer.
    value = {"big": 1e16, "huge": 1.5e300, "neg_zero": -0.0, "tiny": 1e-7, "one": 1.0, "max": 1.7976931348623157e308}
    assert db_stable_json(value)["big"] == 10**16 and db_stable_json(value)["huge"] == 15 * 10**299
    recorded = audit_record(actor=developer, action="a.b", object_type="t", object_id="1", after=value)
    stored = AuditEvent.objects.get(seq=recorded.seq)
    assert stored.after == recorded.after
    assert _recomputes(stored)


json_text = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")  # what UTF-8/jsonb hold
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=json_text, max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.dates() | st.datetimes(timezones=st.just(dt.UTC))
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=json_text, max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=json_values, after=json_values)
def test_any_json_value_hashes_the_same_after_the_database_round_trip(developer, before, after):
    recorded = audit_record(actor=developer, action="prop.test", object_type="t", object_id="1",
                            before=before, after=after)
    stored = AuditEvent.objects.get(seq=recorded.seq)
    assert (stored.before, stored.after) == (recorded.before, recorded.after)
    assert _recomputes(stored)


def test_audit_record_refuses_fields_the_columns_cannot_hold(developer):
    with pytest.raises(ValueError, match="action"):
        audit_record(actor=developer, action="", object_type="t", object_id="1")
    with pytest.raises(ValueError, match="object_id"):
        audit_record(actor=developer, action="a", object_type="t", object_id="x" * 101)
    assert not AuditEvent.objects.exists()
