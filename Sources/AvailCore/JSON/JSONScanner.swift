import Foundation

/// A small pull reader of JSON, for the few fields the fold needs out of a 2–4 KB delivery:
/// it skips everything else without building it. Foundation's `JSONDecoder` was 70% of a
/// rebuild; this reads the same fields several times faster. `InviteeDelivery.scan` is
/// checked against `JSONDecoder` over every fixture, sample and generated delivery.
///
/// Bounds are checked everywhere: malformed input throws, it never traps.
struct JSONScanner {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// How deep objects and arrays may nest, as in `JSONDecoder`; reading recurses, so an
    /// unbounded depth would overflow the stack.
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// The key path being read, for error messages (`payload.scheduled_event.start_time`).
    private var path: [Key] = []
    /// The keys met so far in each object being read, outermost first (`object` finds a
    /// repeated key here).
    private var seen: [Key] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Structure

    /// Reads an object, calling `field` for each key with the scanner at its value; `field`
    /// must consume the value (read it or `skipValue()`).
    ///
    /// What `JSONDecoder` accepts, this accepts alike: white space before the object, a
    /// trailing comma (`{"a":1,}`), and a repeated key, of which the first is read and the
    /// others skipped. Keys are compared as their unescaped bytes, and no `String` is made of
    /// them (a delivery has about 60 keys, most of them skipped).
    mutating func object(_ field: (inout JSONScanner, Key) throws -> Void) throws {
        skipWhitespace()
        let first = seen.count
        defer { seen.removeSubrange(first...) }
        try members(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { scanner in
            let key = try scanner.key()
            try scanner.colon()
            if scanner.seen[first...].contains(key) {
                try scanner.skipValue()
            } else {
                scanner.seen.append(key)
                scanner.path.append(key)
                try field(&scanner, key)
                scanner.path.removeLast()
            }
        }
    }

    /// Reads an array, calling `element` with the scanner at each element.
    mutating func array(_ element: (inout JSONScanner) throws -> Void) throws {
        try members(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), element)
    }

    /// `open`, then members separated by commas (a trailing one allowed), then `close`; each
    /// member is read by `member`, the scanner at its first byte.
    private mutating func members(open: UInt8, close: UInt8, _ member: (inout JSONScanner) throws -> Void) throws {
        try expect(open)
        try descend()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try member(&self)
            if try endOfMember(closing: close) { return }
        }
    }

    /// The `:` between a key and its value, with the white space around it.
    private mutating func colon() throws {
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
    }

    /// Enters an object or array; `depth` is one more until the caller's `defer` leaves it.
    private mutating func descend() throws {
        guard depth < Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) deep") }
        depth += 1
    }

    /// After a member: true at the closing bracket (consumed), false after a comma; one
    /// trailing comma before the bracket is allowed, as `JSONDecoder` allows it.
    private mutating func endOfMember(closing: UInt8) throws -> Bool {
        skipWhitespace()
        switch next() {
        case UInt8(ascii: ","):
            skipWhitespace()
            guard peek() == closing else { return false }
            index += 1
            return true
        case closing:
            return true
        default:
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    /// True (and consumed) when the value is `null`.
    mutating func null() throws -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A string or null.
    mutating func optionalString() throws -> String? {
        try null() ? nil : string(describing: "a string")
    }

    /// A boolean or null.
    mutating func optionalBool() throws -> Bool? {
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        case UInt8(ascii: "n"):
            try literal("null")
            return nil
        default:
            throw failure("expected a boolean")
        }
    }

    /// An object or null: calls `field` like `object` unless null. Returns false for null.
    mutating func optionalObject(_ field: (inout JSONScanner, Key) throws -> Void) throws -> Bool {
        if try null() { return false }
        guard peek() == UInt8(ascii: "{") else { throw failure("expected an object") }
        try object(field)
        return true
    }

    /// An integer (no fraction, no exponent).
    mutating func integer() throws -> Int {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        guard let value = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) else {
            throw failure("expected an integer")
        }
        return value
    }

    /// Skips a value, checking only what `JSONDecoder` checks of a value it does not read: the
    /// structure, but not the keys, escapes or control characters inside its strings.
    mutating func skipValue() throws {
        switch peek() {
        case UInt8(ascii: "{"): try skipObject()
        case UInt8(ascii: "["): try array { scanner in try scanner.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case .some(let byte) where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            while let byte = peek(), Self.isNumberByte(byte) { index += 1 }
        default:
            throw failure("expected a value")
        }
    }

    private mutating func skipObject() throws {
        try members(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { scanner in
            guard scanner.peek() == UInt8(ascii: "\"") else { throw scanner.failure("expected a string") }
            try scanner.skipString()
            try scanner.colon()
            try scanner.skipValue()
        }
    }

    /// Everything after the top-level value is white space.
    mutating func end() throws {
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected bytes after the value") }
    }

    // MARK: Strings

    mutating func string(describing expected: String = "a string") throws -> String {
        let start = index + 1
        if let plain = try plainString(describing: expected) { return String(decoding: plain, as: UTF8.self) }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try unescape(into: &utf8)
            case 0..<0x20:
                throw failure("control character in a string")
            default:
                utf8.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    /// The fast path of a string with no escape: its bytes, the scanner then past its closing
    /// quote. Nil at its first backslash, where the scanner then stands (or at the end of the
    /// input: the caller finds it unterminated).
    private mutating func plainString(describing expected: String) throws -> UnsafeBufferPointer<UInt8>? {
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected \(expected)") }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return UnsafeBufferPointer(rebasing: bytes[start..<index])
            }
            if byte == UInt8(ascii: "\\") { return nil }
            if byte < 0x20 { throw failure("control character in a string") }
            index += 1
        }
        return nil
    }

    /// A key: its bytes in the input, or unescaped when it holds an escape.
    private mutating func key() throws -> Key {
        let quote = index
        if let plain = try plainString(describing: "a string") { return Key(plain) }
        index = quote
        return Key(unescaped: Array(try string().utf8))
    }

    private mutating func unescape(into utf8: inout [UInt8]) throws {
        guard let byte = next() else { throw failure("unterminated escape") }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by `\u` and a low one.
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw failure("lone surrogate") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw failure("lone surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
            utf8.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw failure("short \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips a string: on to the next quote that no backslash escapes (one after an even run
    /// of backslashes), found with `memchr`.
    private mutating func skipString() throws {
        index += 1
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        while index < bytes.count, let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) {
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while quote - backslashes - 1 >= index, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            index = quote + 1
            if backslashes % 2 == 0 { return }
        }
        throw failure("unterminated string")
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard next() == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
    }

    private mutating func literal(_ word: StaticString) throws {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard index + text.count <= bytes.count, UnsafeBufferPointer(rebasing: bytes[index..<index + text.count]).hasSameBytes(as: text) else {
            throw failure("expected \(word)")
        }
        index += text.count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private func failure(_ message: String) -> Failure {
        Failure(description: path.isEmpty ? message : "\(path.map(\.description).joined(separator: ".")): \(message)")
    }
}

extension JSONScanner {
    /// An object's key as `object` passes it: match it with string literals (`case "uri":`).
    /// Its bytes are the input's, valid while the scan runs, unless it held an escape.
    struct Key: Equatable, CustomStringConvertible {
        private let input: UnsafeBufferPointer<UInt8>
        private let unescaped: [UInt8]?

        init(_ input: UnsafeBufferPointer<UInt8>) {
            self.input = input
            unescaped = nil
        }

        init(unescaped: [UInt8]) {
            input = UnsafeBufferPointer(start: nil, count: 0)
            self.unescaped = unescaped
        }

        func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            guard let unescaped else { return body(input) }
            return unescaped.withUnsafeBufferPointer(body)
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.withBytes { left in rhs.withBytes { right in left.hasSameBytes(as: right) } }
        }

        /// A `switch` over keys compares each key with every case: the lengths first.
        static func ~= (pattern: StaticString, key: Key) -> Bool {
            key.withBytes { $0.hasSameBytes(as: UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount)) }
        }

        var description: String {
            withBytes { String(decoding: $0, as: UTF8.self) }
        }
    }
}
