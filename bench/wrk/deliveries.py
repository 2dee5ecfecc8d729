#!/usr/bin/env python3
"""Writes N distinct signed Calendly deliveries for bench/wrk/webhook.lua (standard library only).

The bodies are byte for byte what `availd-sim load` sends (Sources/AvailWorkload/DeliveryBuilder.swift,
`invitee(index:seed:)` with its default times): an `invitee.created` envelope of about 2.7 KB whose
event and invitee UUIDs are derived from the seed and the index, so every delivery is distinct
(its own invitee URI, hence its own dedupe key) and another seed gives another set.

Each is signed as Calendly signs (Sources/AvailCore/Ingest/WebhookSignature.swift):
`Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, keyed with the
signing key's UTF-8 bytes, with `t` the current time unless --timestamp is given. availd refuses a
`t` more than 180 s from its clock (`--signature-tolerance`), so generate right before the run.

Output: one comment line `# availd-deliveries v1 count=N seed=S t=T bytes=B`, then one line per
delivery: the signature header's value, a TAB, the body (JSON without TAB or newline).

    bench/wrk/deliveries.py --count 100000 --seed run1 --key bench-signing-key --out /tmp/d.txt
    bench/wrk/deliveries.py --seed run1 --print 0      # one body on stdout, to compare with Swift's
"""

import argparse
import datetime
import hashlib
import hmac
import sys
import time

HOST_EMAIL = "ada.lovelace@experts.example"
HOST_NAME = "Ada Lovelace"
EVENT_TYPE_UUID = "3f2a8c10-6b1e-4c55-9d7a-0a1b2c3d4e01"
USER_UUID = "8c6f1e2d-4b3a-4f5e-9a8b-7c6d5e4f3a01"
# DeliveryBuilder's default `createdAt` and `start` (microseconds since the epoch).
CREATED_AT_US = 1_795_000_000_000_000
START_US = 1_796_000_000_000_000
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def rfc3339(microseconds):
    """Timestamp.description: `2026-11-18T10:13:20.000000Z`, always six fractional digits."""
    moment = _EPOCH + datetime.timedelta(microseconds=microseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d" % moment.microsecond + "Z"


def uuid(seed, index):
    """DeliveryBuilder.uuid: UUID-shaped, from SHA-256 of "<seed>/<index>"."""
    d = hashlib.sha256(f"{seed}/{index}".encode()).hexdigest()
    return f"{d[0:8]}-{d[8:12]}-4{d[13:16]}-a{d[17:20]}-{d[20:32]}"


def invitee_uri(event, invitee):
    return f"https://api.calendly.com/scheduled_events/{event}/invitees/{invitee}"


CREATED_AT = rfc3339(CREATED_AT_US)
START = rfc3339(START_US)
END = rfc3339(START_US + 30 * 60 * 1_000_000)


def body(index, seed):
    """`DeliveryBuilder().invitee(index: index, seed: seed)`: `invitee.created`, active."""
    event_uuid = uuid(seed + "-event", index)
    invitee_uuid = uuid(seed + "-invitee", index)
    uri = invitee_uri(event_uuid, invitee_uuid)
    event_uri = f"https://api.calendly.com/scheduled_events/{event_uuid}"
    created = CREATED_AT
    payload = (
        f'{{"cancel_url":"https://calendly.com/cancellations/{invitee_uuid}","created_at":"{created}",'
        f'"email":"invitee{index}@example.com","event":"{event_uri}","first_name":null,"last_name":null,'
        f'"name":"Invitee {index}","new_invitee":null,"old_invitee":null,"payment":null,'
        '"questions_and_answers":[{"answer":"I would like to talk about the roadmap for next quarter.",'
        '"position":0,"question":"What should we discuss?"}],'
        f'"reconfirmation":null,"reschedule_url":"https://calendly.com/reschedulings/{invitee_uuid}",'
        '"rescheduled":false,"routing_form_submission":null,"scheduling_method":null,'
        '"status":"active","text_reminder_number":null,"timezone":"Europe/Berlin",'
        '"tracking":{"utm_campaign":null,"utm_source":null,"utm_medium":null,"utm_content":null,'
        '"utm_term":null,"salesforce_uuid":null},'
        f'"updated_at":"{created}","uri":"{uri}","no_show":null,"cancellation":null,'
        f'"scheduled_event":{{"uri":"{event_uri}","name":"30 Minute Meeting","status":"active",'
        f'"start_time":"{START}","end_time":"{END}",'
        f'"event_type":"https://api.calendly.com/event_types/{EVENT_TYPE_UUID}",'
        f'"location":{{"type":"zoom","location":null,"join_url":"https://calendly.zoom.us/j/{index}","status":"pushed"}},'
        '"invitees_counter":{"total":1,"active":1,"limit":1},'
        f'"created_at":"{created}","updated_at":"{created}",'
        f'"event_memberships":[{{"user":"https://api.calendly.com/users/{USER_UUID}",'
        f'"user_email":"{HOST_EMAIL}","user_name":"{HOST_NAME}"}}],'
        '"event_guests":[]}}'
    )
    envelope = (
        f'{{"event":"invitee.created","created_at":"{created}",'
        f'"created_by":"https://api.calendly.com/users/{USER_UUID}","payload":{payload}}}'
    )
    return envelope.encode()


def signature(data, key, timestamp):
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + data, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="deliveries to write")
    parser.add_argument("--seed", required=True, help="makes this set distinct from other runs'")
    parser.add_argument("--key", help="signing key (availd serve --signing-key)")
    parser.add_argument("--out", help="file to write")
    parser.add_argument("--first-index", type=int, default=0, help="index of the first delivery")
    parser.add_argument("--timestamp", type=int, help="signature time, unix seconds [now]")
    parser.add_argument("--print", type=int, metavar="INDEX", dest="print_index",
                        help="print the body of one delivery and exit")
    args = parser.parse_args(argv)

    if args.print_index is not None:
        sys.stdout.buffer.write(body(args.print_index, args.seed))
        return 0
    if not args.key or not args.out or args.count < 1:
        parser.error("--key, --out and a positive --count are needed")
    timestamp = args.timestamp if args.timestamp is not None else int(time.time())
    key = args.key.encode()
    prefix = f"{timestamp}.".encode()
    total = 0
    with open(args.out, "wb") as out:
        lines = []
        for index in range(args.first_index, args.first_index + args.count):
            data = body(index, args.seed)
            mac = hmac.new(key, prefix + data, hashlib.sha256).hexdigest()
            lines.append(b"t=%d,v1=%s\t%s\n" % (timestamp, mac.encode(), data))
            total += len(data)
        out.write(b"# availd-deliveries v1 count=%d seed=%s t=%d bytes=%d\n"
                  % (args.count, args.seed.encode(), timestamp, total // args.count))
        out.writelines(lines)
    print(f"wrote {args.count} deliveries ({total // args.count} bytes each on average, "
          f"signed at t={timestamp}) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
