import AvailCore
import Foundation

/// The properties availd's parsers keep over any bytes: the signature header, the signed
/// delivery check, the delivery decoder with the projector's JSON scanner, and the facts the
/// projector stores. `availd-fuzz` runs them under libFuzzer; `HostileInputTests` over a few
/// thousand seeded mutations on every `swift test`.
///
/// An input's first byte picks the `Target` (modulo their count); the rest is the target's.
public enum HostileInput {
    public enum Target: UInt8, CaseIterable, Sendable {
        /// The rest is a `Calendly-Webhook-Signature` header value.
        case signatureHeader
        /// The rest is a key, a timestamp, a mutation and a body (`SignedInput`).
        case signedDelivery
        /// The rest is a delivery body.
        case deliveryBody
        /// The rest is stored facts (`AppointmentFacts.compact()`).
        case storedFacts
    }

    /// Checks every property of the target `input.first` picks; throws the first that fails.
    /// Never traps on its own: a crash is the code under test's.
    public static func check(_ input: [UInt8]) throws(Violation) {
        guard let first = input.first else { return }
        let target = Target.allCases[Int(first) % Target.allCases.count]
        try check(target, input.dropFirst())
    }

    /// Checks every property of `target` over `data`.
    public static func check(_ target: Target, _ data: ArraySlice<UInt8>) throws(Violation) {
        switch target {
        case .signatureHeader: try signatureHeader(String(decoding: data, as: UTF8.self))
        case .signedDelivery: try SignedInput(data).check()
        case .deliveryBody: try deliveryBody(Data(data))
        case .storedFacts: try storedFacts(Array(data))
        }
    }

    // MARK: Signature header

    /// A header that parses writes itself in Calendly's form, which parses back the same.
    static func signatureHeader(_ text: String) throws(Violation) {
        let header: SignatureHeader
        do {
            header = try SignatureHeader(parsing: text)
        } catch {
            _ = error.description
            return
        }
        try expect(header.timestamp >= 0 && !header.signatures.isEmpty, "a parsed header has t ≥ 0 and a v1", text)
        try expect(header.signatures.allSatisfy { $0.count == 32 }, "every v1 is 32 bytes", text)
        let written = header.headerValue
        let reread = try? SignatureHeader(parsing: written)
        try expect(reread == header, "a written header parses back the same", "\(text.debugDescription) → \(written)")
        try expect(reread?.headerValue == written, "writing is stable", written)
    }

    // MARK: Delivery body

    /// What ingest accepts, the projector reads the same way, and the log can read back.
    static func deliveryBody(_ body: Data) throws(Violation) {
        let delivery: Delivery
        do {
            delivery = try Delivery(body: body)
        } catch {
            try expect(!error.reason.isEmpty, "a refusal says why", body)
            try serializationAgrees(body, nil)
            _ = try? InviteeDelivery.scan(body)  // Never stored, but must not trap either.
            return
        }
        try serializationAgrees(body, delivery)
        try expect((try? Delivery(body: body)) == delivery, "decoding is deterministic", body)
        try expect(Self.isDedupeKey(delivery.dedupeKey.rawValue), "the dedupe key is evt:/body: and 64 hex", body)
        try expect(!delivery.stream.category.isEmpty && !delivery.stream.category.unicodeScalars.contains("-"),
            "the stream category is non-empty without '-'", "\(delivery.stream)")
        try expect(StreamName(delivery.stream.description) == delivery.stream,
            "the stream name reads back from the log", "\(delivery.stream.description.debugDescription)")

        // The projector's scanner reads exactly what JSONDecoder reads, and the same event.
        let scanned = Result { try InviteeDelivery.scan(body) }
        let decoded = Result { try JSONDecoder().decode(InviteeDelivery.self, from: body) }
        switch (scanned, decoded) {
        case (.success(let scan), .success(let decode)):
            try expect(scan == decode, "the scanner reads what JSONDecoder reads", "\(scan) ≠ \(decode)")
            try expect(scan.event == delivery.event, "the scanner reads the stored event name", "\(scan.event) ≠ \(delivery.event)")
        case (.failure, .failure):
            break
        case (.success(let scan), .failure(let error)):
            throw Violation("the scanner refuses what JSONDecoder refuses", "scanner read \(scan); JSONDecoder: \(error)")
        case (.failure(let error), .success):
            throw Violation("the scanner reads what JSONDecoder reads", "scanner: \(error)")
        }

        // The fold takes it (applied or parked), idempotently, and its facts survive storage.
        let event = LogEvent(
            position: 1, streamVersion: 1,
            event: NewEvent(delivery: delivery, signature: nil, receivedAt: Timestamp(microseconds: 1_795_000_000_000_000)),
            hash: [])
        var once = Projection()
        once.apply(event)
        var twice = once
        twice.apply(event)
        try expect(twice.state.facts == once.state.facts, "applying a delivery again changes nothing", body)
        for facts in once.state.facts.values {
            try factsSurviveStorage(facts)
        }
        _ = once.digest
    }

    /// JSONSerialization is a second reader, asked about UTF-8 JSON text (RFC 8259: no NUL).
    /// It keeps the last of repeated keys and JSONDecoder the first, so it is only asked about
    /// bodies that name `event` and `payload` once each (and no `\u` escape); and it drops a
    /// U+FEFF that begins a string, which JSONDecoder keeps, so not about those either.
    private static func serializationAgrees(_ body: Data, _ delivery: Delivery?) throws(Violation) {
        guard String(validating: body, as: UTF8.self) != nil, !body.contains(0), body.occurrences(of: "\u{FEFF}") == 0,
            body.occurrences(of: #"\u"#) == 0,
            body.occurrences(of: #""event""#) <= 1, body.occurrences(of: #""payload""#) <= 1,
            let object = try? JSONSerialization.jsonObject(with: body)
        else { return }
        let envelope = object as? [String: Any]
        let event = envelope?["payload"] is [String: Any] ? envelope?["event"] as? String : nil
        try expect(delivery?.event == event, "ingest accepts what JSONSerialization reads as a delivery",
            "Delivery: \(delivery?.event.debugDescription ?? "refused"), JSONSerialization: \(event.debugDescription)")
    }

    private static func isDedupeKey(_ key: String) -> Bool {
        let hex = key.hasPrefix("evt:") ? key.dropFirst(4) : key.hasPrefix("body:") ? key.dropFirst(5) : ""
        return hex.utf8.count == 64 && hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: Stored facts

    /// Whatever facts the projector reads back, it writes and reads again unchanged. (Other
    /// bytes may read as the same facts, a string listed twice or an integer not in its shortest
    /// form; what the projector writes is what `compact()` makes.)
    static func storedFacts(_ data: [UInt8]) throws(Violation) {
        guard let facts = try? AppointmentFacts(compact: data) else { return }
        try factsSurviveStorage(facts)
    }

    /// The facts written, read back the same, and written again the same.
    private static func factsSurviveStorage(_ facts: AppointmentFacts) throws(Violation) {
        let written = facts.compact()
        let reread: AppointmentFacts
        do {
            reread = try AppointmentFacts(compact: written)
        } catch {
            throw Violation("stored facts read back", "\(error): \(written)")
        }
        try expect(reread == facts, "stored facts read back the same", "\(written)")
        try expect(reread.compact() == written, "writing facts is stable", "\(written)")
    }

    // MARK: Support

    static func expect(_ condition: Bool, _ property: String, _ detail: @autoclosure () -> String) throws(Violation) {
        guard condition else { throw Violation(property, detail()) }
    }

    static func expect(_ condition: Bool, _ property: String, _ body: Data) throws(Violation) {
        guard condition else { throw Violation(property, String(decoding: body.prefix(600), as: UTF8.self).debugDescription) }
    }
}

/// A property that did not hold, with what showed it.
public struct Violation: Error, Sendable, CustomStringConvertible {
    public var property: String
    public var detail: String

    public init(_ property: String, _ detail: String) {
        self.property = property
        self.detail = detail
    }

    public var description: String { "\(property): \(detail)" }
}

extension Data {
    fileprivate func occurrences(of text: String) -> Int {
        let needle = Data(text.utf8)
        var count = 0
        var start = startIndex
        while let found = self[start...].firstRange(of: needle) {
            count += 1
            start = found.upperBound
        }
        return count
    }
}
