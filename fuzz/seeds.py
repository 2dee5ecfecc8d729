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

SNAPSHOT = (
    '{"created_at":"2026-03-01T10:00:00.000000Z","email":"zoe@example.com","end_time":"2026-03-02T15:30:00.000000Z",'
    '"event_type_uri":"https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5",'
    '"host_emails":["ada.lovelace@experts.example"],"name":"Zo\\u00eb","scheduled_event_uri":"https://api.calendly.com/'
    'scheduled_events/E1","start_time":"2026-03-02T15:00:00.000000Z","timezone":"Europe/London","updated_at":null}'
)
VERSION = '{"at":"2026-03-01T10:00:00.000000Z","key":"evt:00","rank":0}'
FACTS_SEEDS = [
    '{"canceled":null,"created":{"value":%s,"version":%s},"invitee_uri":"https://api.calendly.com/scheduled_events/E1/'
    'invitees/I1","no_show":null,"no_show_snapshot":null,"rescheduled_from":null,"rescheduled_to":null}' % (SNAPSHOT, VERSION),
    '{"canceled":{"value":{"canceled_at":"2026-03-01T11:00:00.000000Z","canceled_by":"Zoe","canceler_type":"invitee",'
    '"reason":null,"rescheduled":true,"snapshot":%s},"version":%s},"created":null,"invitee_uri":"I2","no_show":'
    '{"value":true,"version":%s},"no_show_snapshot":null,"rescheduled_from":null,"rescheduled_to":"I3"}'
    % (SNAPSHOT, VERSION, VERSION),
]

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
    inputs += [bytes([FACTS]) + facts.encode() for facts in FACTS_SEEDS]
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
