"""The pure protocol functions shared by kiosk and cloud: signing and the event schema."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import protocol
from tests.support.branches import Branches

KEY = "00" * 31 + "01"
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)


def test_changing_any_byte_of_the_body_breaks_the_signature():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(body=st.binary(max_size=300), position=st.integers(min_value=0), flip=st.integers(1, 255))
    def example(body, position, flip):
        header = protocol.sign(KEY, 1_700_000_000, "POST", "/v1/devices/d/events", body)
        assert protocol.signature_matches(KEY, 1_700_000_000, "POST", "/v1/devices/d/events", body, header)
        if body:
            i = position % len(body)
            tampered = body[:i] + bytes([body[i] ^ flip]) + body[i + 1:]
            assert not protocol.signature_matches(KEY, 1_700_000_000, "POST", "/v1/devices/d/events", tampered,
                                                  header)
            branches.took("tampered" if i < len(body) - 1 else "last byte tampered")
        else:
            branches.took("empty body")

    example()
    branches.require(tampered=0.23, **{"last byte tampered": 0.2, "empty body": 0.06})


def test_the_signature_covers_timestamp_method_and_path():
    header = protocol.sign(KEY, 100, "GET", "/v1/members/lookup?card_ref=aa", b"")
    assert not protocol.signature_matches(KEY, 101, "GET", "/v1/members/lookup?card_ref=aa", b"", header)
    assert not protocol.signature_matches(KEY, 100, "POST", "/v1/members/lookup?card_ref=aa", b"", header)
    assert not protocol.signature_matches(KEY, 100, "GET", "/v1/members/lookup?card_ref=ab", b"", header)


def test_the_signed_message_is_exactly_as_documented():
    assert protocol.signing_message(1700000000, "post", "/v1/x", b"{}") == b"1700000000.POST./v1/x.{}"


def test_a_device_key_that_is_not_64_hex_chars_is_refused_with_advice():
    with pytest.raises(protocol.ProtocolError, match="register the device again"):
        protocol.sign("short", 1, "GET", "/", b"")
    with pytest.raises(protocol.ProtocolError, match="64 hex"):
        protocol.sign("zz" * 32, 1, "GET", "/", b"")


@pytest.mark.parametrize("value", [None, "", "12.5", "-3", "soon"])
def test_a_bad_timestamp_header_says_what_is_expected(value):
    with pytest.raises(protocol.ProtocolError, match="unix seconds"):
        protocol.parse_timestamp_header(value)


def test_the_window_is_five_minutes_either_side():
    ts = int(NOW.timestamp())
    assert protocol.within_window(ts + 300, NOW) and protocol.within_window(ts - 300, NOW)
    assert not protocol.within_window(ts + 301, NOW) and not protocol.within_window(ts - 301, NOW)


def test_times_round_trip_through_their_wire_format_in_utc_and_a_naive_time_is_refused():
    branches = Branches()
    zones = st.none() | st.just(timezone.utc) | st.sampled_from(
        [timezone(timedelta(hours=3, minutes=30)), timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))])

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones))
    def example(at):
        if at.tzinfo is None:
            with pytest.raises(protocol.ProtocolError, match="time zone"):
                protocol.format_time(at)
            branches.took("naive")
            return
        wire = protocol.format_time(at)
        assert wire.endswith("Z")
        back = protocol.parse_time(wire)
        assert back == at and back.tzinfo == timezone.utc
        branches.took("utc" if at.utcoffset() == timedelta(0) else "other zone")

    example()
    branches.require(naive=0.15, utc=0.2, **{"other zone": 0.13})


def test_a_naive_time_is_refused_because_its_zone_is_unknown():
    with pytest.raises(protocol.ProtocolError, match="time zone"):
        protocol.format_time(datetime(2026, 1, 1))
    with pytest.raises(protocol.ProtocolError, match="offset"):
        protocol.parse_time("2026-01-01T00:00:00")


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("earn", {"points": 0}, "must be positive"),
        ("earn", {"points": 1.5}, "integer"),
        ("earn", {"points": True}, "integer"),
        ("redeem", {"points": 10}, "negative"),
        ("expire", {"points": 5}, "negative"),
        ("adjust", {"points": 0}, "changes nothing"),
        ("earn", {"points": 5, "amount": -1}, "amount"),
        ("earn", {"points": 5, "origin": "cloud_correction"}, "only an adjust"),
        ("member_enrolled", {"phone_e164": "09121234567", "name": "Ali"}, "E.164"),
        ("member_enrolled", {"phone_e164": "+989121234567", "name": " "}, "name"),
        ("member_enrolled", {"phone_e164": "+989121234567", "name": "Ali", "birthday": "13-40"}, "birthday"),
        ("card_bound", {"card_ref": "04A1B2C3D4"}, "never its UID"),
        ("card_state", {"card_ref": "ab" * 32, "state": "gone"}, "state"),
        ("card_bound", {"card_ref": "ab" * 32, "track2": "1234"}, "unknown keys"),
        ("member_enrolled", {"name": "Ali"}, "missing"),
        ("credit_released", {"use_key": "no spaces"}, "use_key"),
        ("member_updated", {"name": "Sara", "phone_e164": "+989121234567"}, "unknown keys"),
        ("member_updated", {"name": "Sara", "birthday": "1995-13-01"}, "birthday"),
        ("member_updated", {"name": " "}, "name"),
        ("credit_released", {}, "missing"),
        ("credit_moved", {"amount_rial": -5, "move": "spend", "use_key": "a b"}, "use_key"),
    ],
)
def test_an_event_that_breaks_the_schema_is_refused_naming_the_key(kind, fields, message):
    with pytest.raises(protocol.InvalidEvent, match=message):
        protocol.make_event(kind, "m-1", NOW, **fields)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("kind", ["earn"], "unknown kind"), ("kind", {"earn": 1}, "unknown kind"),
    ("state", ["blocked"], "state must be one of"), ("origin", {"device": 1}, "origin must be one of"),
])
def test_a_choice_sent_as_a_list_or_an_object_is_refused_naming_the_choices_not_crashing(field, value, message):
    event = {"event_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "kind": "card_state", "member_id": "m-1",
             "created_at": "2026-05-06T12:00:00Z", "card_ref": "ab" * 32, "state": "blocked"}
    if field == "origin":
        event = {**event, "kind": "adjust", "points": 5, "amount": 0, "reason": "x"}
        del event["card_ref"], event["state"]
    with pytest.raises(protocol.InvalidEvent, match=message):
        protocol.validate_event({**event, field: value})


def test_well_formed_events_of_every_kind_pass():
    card = "ab" * 32
    events = [
        protocol.make_event("earn", "m", NOW, points=5, amount=50_000, reason="purchase"),
        protocol.make_event("bonus", "m", NOW, points=5),
        protocol.make_event("redeem", "m", NOW, points=-5),
        protocol.make_event("expire", "m", NOW, points=-5),
        protocol.make_event("adjust", "m", NOW, points=-3, origin="cloud_correction"),
        protocol.make_event("member_enrolled", "m", NOW, phone_e164="+989121234567", name="Ali",
                            birthday="05-17", consent={"marketing": True, "at": "2026-01-01T00:00:00Z", "text_version": "1"}),
        protocol.make_event("card_bound", "m", NOW, card_ref=card),
        protocol.make_event("card_state", "m", NOW, card_ref=card, state="lost"),
        protocol.make_event("draw_entry", "m", NOW, draw_id="spring", entries=2, source="points"),
        protocol.make_event("consent_withdrawn", "m", NOW, staff_id="pin"),
        protocol.make_event("survey_answered", "m", NOW, survey_id="service", answers={"q1": 5}),
        protocol.make_event("complaint_filed", "guest", NOW, code="ABCDE12345", phone_e164="+989121234567",
                            subject="service", text="The queue was long"),
        protocol.make_event("coupon_used", "m", NOW, code="7K3M-Q9XD-2HVB-R", use_key="T-1"),
        protocol.make_event("coupon_released", "m", NOW, code="7K3M-Q9XD-2HVB-R", use_key="T-1"),
        protocol.make_event("credit_moved", "m", NOW, amount_rial=-20_000, move="spend", reason="paid",
                            use_key="T-1"),
        protocol.make_event("credit_released", "m", NOW, use_key="T-1"),
        protocol.make_event("member_updated", "m", NOW, name="Sara Ahmadi", birthday="1995-03-21", language="en"),
    ]
    assert {e["kind"] for e in events} == protocol.KINDS
    assert [protocol.counts_toward_balance(e) for e in events] == [5, 5, -5, -5] + [0] * (len(events) - 4)
    uuid.UUID(events[0]["event_id"])


def test_an_event_id_that_is_not_a_uuid_is_refused():
    with pytest.raises(protocol.InvalidEvent, match="UUID"):
        protocol.make_event("earn", "m", NOW, points=1, event_id="42")


def test_a_batch_body_is_the_payloads_joined_without_reparsing():
    body = protocol.encode_batch(['{"a":1}', '{"b":2}'])
    assert body == b'{"events":[{"a":1},{"b":2}]}'
    assert protocol.decode_batch(body) == [{"a": 1}, {"b": 2}]


def test_a_batch_over_the_event_limit_is_refused():
    body = protocol.encode_batch(["{}"] * (protocol.MAX_BATCH_EVENTS + 1))
    with pytest.raises(protocol.ProtocolError, match="at most"):
        protocol.decode_batch(body)


def test_the_config_etag_does_not_depend_on_key_order():
    a = {"rules": {"x": 1, "y": 2}, "tiers": [], "rewards": [], "campaigns": []}
    b = {"campaigns": [], "rewards": [], "tiers": [], "rules": {"y": 2, "x": 1}}
    assert protocol.config_etag(a) == protocol.config_etag(b)
    assert protocol.config_etag(a) != protocol.config_etag({**a, "tiers": [{}]})


@pytest.mark.parametrize(
    ("document", "message"),
    [([], "JSON object"), ({"rules": {}}, "missing"), ({"rules": [], "tiers": [], "rewards": [], "campaigns": []}, "'rules' must be a JSON object")],
)
def test_a_config_without_its_sections_is_refused(document, message):
    with pytest.raises(protocol.InvalidConfig, match=message):
        protocol.validate_config(document)


def test_clock_skew_is_signed_ahead_positive():
    ts = int((NOW + timedelta(hours=2)).timestamp())
    assert protocol.clock_skew(ts, NOW) == timedelta(hours=2)


def test_store_payloads_map_onto_the_documented_events_and_drop_local_details(store):
    member = store.add_member("+989121234567", "Sara", "Ahmadi", birthday="1990-05-17", consent_version="2026-01",
                              language="fa")
    store.bind_card(member.id, "ab" * 32, "rfid125", "…3F2A")
    store.set_card_state("ab" * 32, "lost", staff_id="staff-7")
    store.record(member.id, "earn", 12, amount=120_000, receipt_id="r-1", reason="purchase")
    store.record(member.id, "adjust", 5, reason=f"{protocol.CLOUD_CORRECTION_REASON} chain balance 17")
    rows = store.query("SELECT payload FROM outbox ORDER BY rowid")
    enrolled, bound, state, earn, correction = (protocol.event_from_outbox(r["payload"]) for r in rows)
    assert enrolled["name"] == "Sara Ahmadi" and enrolled["phone_e164"] == "+989121234567"
    assert enrolled["consent"]["text_version"] == "2026-01" and enrolled["language"] == "fa"
    assert "referral_code" not in enrolled and "device_id" not in enrolled
    assert bound == {"event_id": bound["event_id"], "kind": "card_bound", "created_at": bound["created_at"],
                     "member_id": member.id, "card_ref": "ab" * 32}  # no tech, no label
    assert state["kind"] == "card_state" and state["state"] == "lost" and state["member_id"] == member.id
    assert earn["points"] == 12 and earn["amount"] == 120_000 and earn["receipt_id"] == "r-1"
    assert correction["origin"] == "cloud_correction"
    assert protocol.counts_toward_balance(correction) == 0
    # Deterministic: the same row always gives the same event (a resend is a duplicate).
    assert protocol.event_from_outbox(rows[3]["payload"]) == earn


@pytest.mark.parametrize(
    ("payload", "message"),
    [("not json", "not JSON"), ("[1]", "JSON object"), ('{"kind": "gift"}', "unknown kind"),
     ('{"kind": "earn", "event_id": "x", "member_id": "m", "created_at": "2026-01-01T00:00:00Z", "points": 1}', "UUID")],
)
def test_a_broken_outbox_payload_is_refused_with_the_reason(payload, message):
    with pytest.raises(protocol.InvalidEvent, match=message):
        protocol.event_from_outbox(payload)


ANSWER = "00000000-0000-4000-8000-0000000000a1"


def test_a_surveys_free_draw_entry_names_its_answer_from_the_outbox_and_a_paid_one_does_not():
    def from_outbox(**extra):
        return protocol.event_from_outbox(json.dumps({
            "event_id": str(uuid.uuid4()), "kind": "draw_entry", "created_at": "2026-05-01T10:00:00+00:00",
            "member_id": "m-1", "draw_id": "spring", "entries": 2, **extra}))

    assert from_outbox(source="survey", answer_id=ANSWER)["answer_id"] == ANSWER
    assert "answer_id" not in from_outbox(source="points")


@pytest.mark.parametrize("fields", [{"draw_id": "spring", "entries": 0, "source": "points"},
                                    {"draw_id": "spring", "entries": 2, "source": "gift"},
                                    {"draw_id": "", "entries": 2, "source": "points"},
                                    {"draw_id": "spring", "entries": 2, "source": "points", "answer_id": ANSWER},
                                    {"draw_id": "spring", "entries": 2, "source": "survey", "answer_id": "A1"},
                                    {"draw_id": "spring", "entries": 2, "source": "survey", "answer_id": 7}])
def test_a_draw_entry_without_a_draw_a_count_or_a_known_source_is_refused(fields):
    with pytest.raises(protocol.InvalidEvent):
        protocol.make_event("draw_entry", "m", NOW, **fields)


def test_a_consent_withdrawal_from_the_outbox_carries_the_member_and_staff_and_nothing_else():
    payload = json.dumps({"event_id": str(uuid.uuid4()), "kind": "consent_withdrawn", "device_id": "k1",
                          "created_at": "2026-05-01T10:00:00+00:00", "member_id": "m-1", "staff_id": "maryam"})
    event = protocol.event_from_outbox(payload)
    assert set(event) == {"event_id", "kind", "member_id", "created_at", "staff_id"}
    with pytest.raises(protocol.InvalidEvent):
        protocol.validate_event({**event, "phone_e164": "+989121234567"})
