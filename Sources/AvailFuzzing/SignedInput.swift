import AvailCore
import Foundation

/// A signing key, a time, one byte's mutation and a body, read from fuzz bytes:
/// `[key length][key…][5 bytes t][2 bytes position][1 byte xor][body…]`; missing bytes are 0.
struct SignedInput {
    static let tolerance: Int64 = 300

    var key: String
    var timestamp: Int64
    var position: Int
    var xor: UInt8
    var body: [UInt8]

    init(_ data: ArraySlice<UInt8>) {
        var bytes = data[...]
        func take(_ count: Int) -> [UInt8] {
            let taken = Array(bytes.prefix(count))
            bytes = bytes.dropFirst(count)
            return taken + [UInt8](repeating: 0, count: count - taken.count)
        }
        let keyLength = Int(take(1)[0]) % 49
        key = String(decoding: take(keyLength), as: UTF8.self)
        timestamp = Int64(take(5).reduce(0) { $0 << 8 | UInt64($1) } % 1_000_000_000_000)
        position = take(2).reduce(0) { $0 << 8 | Int($1) }
        xor = max(take(1)[0], 1)
        body = Array(bytes)
    }

    /// A signed body verifies within the tolerance, under any of several keys; stale, under
    /// another key, or with one byte of body or header changed, it does not. The one change
    /// that keeps a header valid is a hex digit's case.
    func check() throws(Violation) {
        let header = WebhookSignature.sign(body, key: key, timestamp: timestamp).headerValue
        func outcome(_ header: String, _ body: [UInt8], keys: [String], now: Int64) -> WebhookSignature.Failure? {
            do {
                try WebhookSignature.verify(header: header, body: body, keys: keys, tolerance: Self.tolerance, now: now)
                return nil
            } catch {
                return error
            }
        }
        let shown = "key \(key.debugDescription), header \(header)"
        for now in [timestamp, timestamp - Self.tolerance, timestamp + Self.tolerance] {
            try HostileInput.expect(outcome(header, body, keys: [key], now: now) == nil, "a signed body verifies", shown)
        }
        try HostileInput.expect(outcome(header, body, keys: ["rotated-" + key, key], now: timestamp) == nil,
            "any one of the keys verifies", shown)
        try HostileInput.expect(outcome(header, body, keys: [key], now: timestamp + Self.tolerance + 1) == .stale,
            "an old signature is stale", shown)
        try HostileInput.expect(outcome(header, body, keys: [key + "!"], now: timestamp) == .invalid,
            "another key does not verify", shown)
        try HostileInput.expect(outcome(header, body + [0x20], keys: [key], now: timestamp) == .invalid,
            "a longer body does not verify", shown)
        if !body.isEmpty {
            var changed = body
            changed[position % body.count] ^= xor
            try HostileInput.expect(outcome(header, changed, keys: [key], now: timestamp) == .invalid,
                "a changed body does not verify", "\(shown), byte \(position % body.count)")
        }

        var bytes = Array(header.utf8)
        let index = position % bytes.count
        let original = bytes[index]
        bytes[index] ^= xor
        let changed = String(decoding: bytes, as: UTF8.self)
        let digestStart = header.utf8.count - 64
        let isCaseFlip = index >= digestStart && xor == 0x20 && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(original)
        let result = outcome(changed, body, keys: [key], now: timestamp)
        if isCaseFlip {
            try HostileInput.expect(result == nil, "a digest verifies in upper case", changed)
        } else {
            try HostileInput.expect(result == .invalid || result == .malformed, "a changed header does not verify",
                "\(changed.debugDescription) gave \(result.map(\.rawValue) ?? "success")")
        }
    }
}
