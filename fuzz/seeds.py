#!/usr/bin/env python3
"""Write the fuzzer's seed corpus into the folder given: one file per input, its first byte the
target (0 signature header, 1 signed delivery, 2 delivery body, 3 stored facts; see
Sources/AvailFuzzing/HostileInput.swift), the rest from fixtures/ and a few headers and facts.

    python3 fuzz/seeds.py .build-fuzz/seeds
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
HEADER, SIGNED, BODY, FACTS = 0, 1, 2, 3
DIGEST = "ab" * 32

HEADERS = [
    f"t=1700000000,v1={DIGEST}",
    f" t=5 , v0=zzz, v1={DIGEST},v1={'CD' * 32} ",
    f"v1={DIGEST},t=1795000000",
    f"t=1,v1={DIGEST[:-2]}",
    f"t=1,t=2,v1={DIGEST}",
    "t=,v1=",
    "garbage",
]

# Stored facts in their compact form (Sources/AvailCore/Projection/AppointmentFacts+Compact.swift).
SNAPSHOT = {
    "name": "Zo\u00eb", "email": "zoe@example.com", "timezone": "Europe/London",
    "scheduled_event_uri": "https://api.calendly.com/scheduled_events/E1",
    "event_type_uri": "https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5",
    "start_time": 1_772_463_600_000_000, "end_time": 1_772_465_400_000_000, "created_at": 1_772_359_200_000_000,
    "updated_at": None, "host_emails": ["ada.lovelace@experts.example"], "host_users": [],
}
VERSION = ("2026-03-01T10:00:00.000000Z", 0, "evt:00")
FACTS_SEEDS = [
    {"invitee_uri": "https://api.calendly.com/scheduled_events/E1/invitees/I1", "created": (VERSION, SNAPSHOT)},
    {"invitee_uri": "I2", "canceled": (VERSION, (SNAPSHOT, True, ["Zoe", None, "invitee"], 1_772_362_800_000_000)),
     "no_show": (VERSION, True), "rescheduled_to": "I3"},
]


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value):
    return varint((value << 1) ^ (value >> 63) if value >= 0 else ((-value) << 1) - 1)


def compact(facts):
    strings, body = [], bytearray()

    def string(text):
        if text not in strings:
            strings.append(text)
        body.extend(varint(strings.index(text)))

    def mask(bits):
        body.extend(varint(sum(1 << bit for bit, present in enumerate(bits) if present)))

    def version(v):
        string(v[0])
        body.extend(zigzag(v[1]))
        string(v[2])

    def snapshot(s):
        texts = [s[k] for k in ("name", "email", "timezone", "scheduled_event_uri", "event_type_uri")]
        times = [s[k] for k in ("start_time", "end_time", "created_at", "updated_at")]
        mask([t is not None for t in texts + times])
        for t in texts:
            if t is not None:
                string(t)
        for t in times:
            if t is not None:
                body.extend(zigzag(t))
        for key in ("host_emails", "host_users"):
            body.extend(varint(len(s[key])))
            for t in s[key]:
                string(t)

    fields = ("created", "canceled", "no_show_snapshot", "no_show", "no_show_observed_absent", "rescheduled_to",
              "rescheduled_from")
    string(facts["invitee_uri"])
    mask([facts.get(f) is not None for f in fields])
    for field in fields:
        value = facts.get(field)
        if value is None:
            continue
        if field in ("rescheduled_to", "rescheduled_from"):
            string(value)
            continue
        version(value[0])
        if field in ("created", "no_show_snapshot"):
            snapshot(value[1])
        elif field == "canceled":
            snap, rescheduled, texts, canceled_at = value[1]
            snapshot(snap)
            body.append(1 if rescheduled else 0)
            mask([t is not None for t in texts] + [canceled_at is not None])
            for t in texts:
                if t is not None:
                    string(t)
            if canceled_at is not None:
                body.extend(zigzag(canceled_at))
        else:
            body.append(1 if value[1] else 0)
    table = bytearray(varint(len(strings)))
    for text in strings:
        encoded = text.encode()
        table.extend(varint(len(encoded)) + encoded)
    return bytes([1]) + bytes(table) + bytes(body)


# Small deliveries, on which a mutation more often lands somewhere that matters.
INVITEE = "https://api.calendly.com/scheduled_events/E1/invitees/I1"
SMALL_BODIES = [
    '{"event":"invitee.created","created_at":"2026-03-01T10:00:00.000000Z","payload":{"uri":"%s",'
    '"scheduled_event":{"start_time":"2026-03-02T15:00:00Z","end_time":"2026-03-02T15:30:00Z",'
    '"event_memberships":[{"user_email":"ada.lovelace@experts.example"}]}}}' % INVITEE,
    '{"event":"invitee.canceled","created_at":"2026-03-01T11:00:00Z","payload":{"uri":"%s","rescheduled":true,'
    '"new_invitee":"%s2","cancellation":{"canceled_by":"Zoe","created_at":"2026-03-01T11:00:00Z"}}}' % (INVITEE, INVITEE),
    '{"event":"invitee_no_show.created","created_at":"2026-03-01T12:00:00Z","payload":{"uri":'
    '"https://api.calendly.com/invitee_no_shows/N1","invitee":"%s","created_at":"2026-03-01T12:00:00Z"}}' % INVITEE,
    '{"event":"event_type.updated","payload":{"uri":"https://api.calendly.com/event_types/T1"}}',
]


def bodies():
    """Every body under fixtures/ as `availd replay` reads them: a .json file less trailing
    white space, a .jsonl file one body a line."""
    for folder in ["deliveries", "calendly-samples", "invalid"]:
        for root, _, names in sorted(os.walk(os.path.join(FIXTURES, folder))):
            for name in sorted(names):
                with open(os.path.join(root, name), "rb") as file:
                    data = file.read()
                if name.endswith(".json"):
                    yield data.rstrip()
                elif name.endswith(".jsonl"):
                    yield from (line for line in data.split(b"\n") if line.strip())


def signed(key, timestamp, body):
    key = key.encode()
    return bytes([len(key)]) + key + timestamp.to_bytes(5, "big") + b"\x00\x07\x01" + body


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    inputs = [bytes([HEADER]) + header.encode() for header in HEADERS]
    inputs += [bytes([FACTS]) + compact(facts) for facts in FACTS_SEEDS]
    inputs += [bytes([BODY]) + body.encode() for body in SMALL_BODIES]
    for index, body in enumerate(bodies()):
        inputs.append(bytes([BODY]) + body)
        if index % 8 == 0:
            inputs.append(bytes([SIGNED]) + signed("whsec_" + str(index), 1_795_000_000 + index, body[:512]))
    for data in inputs:
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as file:
            file.write(data)
    print(f"{len(set(inputs))} seeds in {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
