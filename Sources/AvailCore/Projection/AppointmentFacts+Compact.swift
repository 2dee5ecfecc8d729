/// The facts as the read models store them: a binary form about a third the size of
/// `canonicalJSON()`, read back without parsing text. Each copy of an invitee's snapshot repeats
/// the same URIs, emails and names, so every distinct string is written once and referred to by
/// its index; times are microseconds.
///
/// Layout (every integer an LEB128 varint; signed ones zig-zag encoded):
///
///     format               1 byte, `CompactFacts.format`
///     strings              count, then each: its UTF-8 length and bytes
///     invitee_uri          string index
///     present              a bit each, from bit 0: created, canceled, no_show_snapshot, no_show,
///                          no_show_observed_absent, rescheduled_to, rescheduled_from
///     then each one present, in that order:
///       created, no_show_snapshot   version, snapshot
///       canceled                    version, cancellation
///       no_show, …_observed_absent  version, 1 byte (0 or 1)
///       rescheduled_to, _from       string index
///
///     version              at (string index), rank (signed), key (string index)
///     snapshot             present (a bit each: name, email, timezone, scheduled_event_uri,
///                          event_type_uri, start_time, end_time, created_at, updated_at), each
///                          present one (strings by index, times as signed microseconds), then
///                          host_emails and host_users (a count, then string indexes)
///     cancellation         snapshot, rescheduled (1 byte), present (a bit each: canceled_by,
///                          reason, canceler_type, canceled_at), each present one
///
/// The read models are derived, so changing this layout means changing `format` and the read
/// models' schema version: a generation of another version is made afresh from the log.
public enum CompactFacts {
    public static let format: UInt8 = 1

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}

extension AppointmentFacts {
    /// The facts in their compact stored form (see `CompactFacts`).
    public func compact() -> [UInt8] {
        var writer = CompactWriter()
        writer.string(inviteeURI)
        writer.mask([
            created != nil, canceled != nil, noShowSnapshot != nil, noShow != nil, noShowObservedAbsent != nil,
            rescheduledTo != nil, rescheduledFrom != nil,
        ])
        if let created { writer.versioned(created) { $0.snapshot($1) } }
        if let canceled { writer.versioned(canceled) { $0.cancellation($1) } }
        if let noShowSnapshot { writer.versioned(noShowSnapshot) { $0.snapshot($1) } }
        if let noShow { writer.versioned(noShow) { $0.bool($1) } }
        if let noShowObservedAbsent { writer.versioned(noShowObservedAbsent) { $0.bool($1) } }
        if let rescheduledTo { writer.string(rescheduledTo) }
        if let rescheduledFrom { writer.string(rescheduledFrom) }
        return writer.finish()
    }

    /// Reads what `compact()` wrote; throws `CompactFacts.Failure` for anything else.
    public init(compact bytes: UnsafeRawBufferPointer) throws {
        var reader = try CompactReader(bytes)
        self.init(inviteeURI: try reader.string())
        let present = try reader.mask(7)
        if present[0] { created = try reader.versioned { try $0.snapshot() } }
        if present[1] { canceled = try reader.versioned { try $0.cancellation() } }
        if present[2] { noShowSnapshot = try reader.versioned { try $0.snapshot() } }
        if present[3] { noShow = try reader.versioned { try $0.bool() } }
        if present[4] { noShowObservedAbsent = try reader.versioned { try $0.bool() } }
        if present[5] { rescheduledTo = try reader.string() }
        if present[6] { rescheduledFrom = try reader.string() }
        try reader.end()
    }

    public init(compact bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try AppointmentFacts(compact: $0) }
    }
}

/// Writes the body with string indexes, then puts the string table in front of it.
private struct CompactWriter {
    private var body: [UInt8] = []
    /// The distinct strings so far, in order of first use. A record has a few dozen, so a scan
    /// (by bytes: Swift's `==` would merge two spellings of é) beats hashing.
    private var strings: [String] = []
    private var size = 0

    init() {
        body.reserveCapacity(256)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            body.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        body.append(UInt8(value))
    }

    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func string(_ value: String) {
        var value = value
        let index = value.withUTF8 { new in
            strings.firstIndex { known in
                var known = known
                return known.withUTF8 { $0.hasSameBytes(as: new) }
            }
        }
        if let index { return varint(UInt64(index)) }
        varint(UInt64(strings.count))
        size += value.utf8.count + 2
        strings.append(value)
    }

    mutating func mask(_ bits: [Bool]) {
        var mask: UInt64 = 0
        for (bit, set) in bits.enumerated() where set { mask |= 1 << UInt64(bit) }
        varint(mask)
    }

    mutating func bool(_ value: Bool) {
        body.append(value ? 1 : 0)
    }

    mutating func time(_ value: Timestamp) {
        signed(value.microseconds)
    }

    mutating func versioned<Value>(_ versioned: Versioned<Value>, _ value: (inout CompactWriter, Value) -> Void) {
        string(versioned.version.at)
        signed(Int64(versioned.version.rank))
        string(versioned.version.key)
        value(&self, versioned.value)
    }

    mutating func snapshot(_ snapshot: InviteeSnapshot) {
        let strings = [snapshot.name, snapshot.email, snapshot.timezone, snapshot.scheduledEventURI, snapshot.eventTypeURI]
        let times = [snapshot.startTime, snapshot.endTime, snapshot.createdAt, snapshot.updatedAt]
        mask(strings.map { $0 != nil } + times.map { $0 != nil })
        for case let text? in strings { string(text) }
        for case let time? in times { self.time(time) }
        for list in [snapshot.hostEmails, snapshot.hostUsers] {
            varint(UInt64(list.count))
            for text in list { string(text) }
        }
    }

    mutating func cancellation(_ cancellation: Cancellation) {
        snapshot(cancellation.snapshot)
        bool(cancellation.rescheduled)
        let strings = [cancellation.canceledBy, cancellation.reason, cancellation.cancelerType]
        mask(strings.map { $0 != nil } + [cancellation.canceledAt != nil])
        for case let text? in strings { string(text) }
        if let canceledAt = cancellation.canceledAt { time(canceledAt) }
    }

    /// The format byte, the string table, the body.
    consuming func finish() -> [UInt8] {
        let body = self.body
        self.body = [CompactFacts.format]
        self.body.reserveCapacity(1 + size + body.count)
        varint(UInt64(strings.count))
        for var text in strings {
            varint(UInt64(text.utf8.count))
            text.withUTF8 { self.body.append(contentsOf: $0) }
        }
        self.body.append(contentsOf: body)
        return self.body
    }
}

/// Reads the compact form, checking every length and index against the bytes it has.
private struct CompactReader {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0
    private var strings: [String] = []

    init(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes = bytes
        guard bytes.first == CompactFacts.format else { throw Self.failure("not compact facts of format \(CompactFacts.format)") }
        at = 1
        let count = try varint()
        // Each string takes at least its length byte: a count beyond the bytes left is corrupt.
        guard count <= UInt64(bytes.count - at) else { throw Self.failure("string count \(count) exceeds the data") }
        strings.reserveCapacity(Int(count))
        for _ in 0..<count {
            let length = try varint()
            guard length <= UInt64(bytes.count - at) else { throw Self.failure("string length \(length) exceeds the data") }
            let text = UnsafeRawBufferPointer(rebasing: bytes[at..<at + Int(length)])
            guard let string = String(validating: text.bindMemory(to: UInt8.self), as: UTF8.self) else {
                throw Self.failure("a string is not UTF-8")
            }
            strings.append(string)
            at += Int(length)
        }
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            guard shift < 64, shift < 63 || byte <= 1 else { throw Self.failure("an integer overflows 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Self.failure("the data ends inside an integer")
    }

    mutating func signed() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func string() throws -> String {
        let index = try varint()
        guard index < UInt64(strings.count) else { throw Self.failure("string index \(index) is out of range") }
        return strings[Int(index)]
    }

    mutating func mask(_ width: Int) throws -> [Bool] {
        let mask = try varint()
        guard mask >> UInt64(width) == 0 else { throw Self.failure("unknown fields in a mask") }
        return (0..<width).map { mask & (1 << UInt64($0)) != 0 }
    }

    mutating func bool() throws -> Bool {
        guard at < bytes.count else { throw Self.failure("the data ends inside a boolean") }
        defer { at += 1 }
        switch bytes[at] {
        case 0: return false
        case 1: return true
        default: throw Self.failure("a boolean is \(bytes[at])")
        }
    }

    mutating func time() throws -> Timestamp {
        Timestamp(microseconds: try signed())
    }

    mutating func versioned<Value>(_ value: (inout CompactReader) throws -> Value)
        throws -> Versioned<Value>
    {
        let at = try string()
        let rank = try signed()
        guard let rank = Int(exactly: rank) else { throw Self.failure("a rank is out of range") }
        let key = try string()
        return Versioned(version: FactVersion(at: at, rank: rank, key: key), value: try value(&self))
    }

    mutating func snapshot() throws -> InviteeSnapshot {
        let present = try mask(9)
        var texts: [String?] = []
        for bit in 0..<5 { texts.append(present[bit] ? try string() : nil) }
        var times: [Timestamp?] = []
        for bit in 5..<9 { times.append(present[bit] ? try time() : nil) }
        var snapshot = InviteeSnapshot(hostEmails: [])
        snapshot.name = texts[0]
        snapshot.email = texts[1]
        snapshot.timezone = texts[2]
        snapshot.scheduledEventURI = texts[3]
        snapshot.eventTypeURI = texts[4]
        snapshot.startTime = times[0]
        snapshot.endTime = times[1]
        snapshot.createdAt = times[2]
        snapshot.updatedAt = times[3]
        snapshot.hostEmails = try list()
        snapshot.hostUsers = try list()
        return snapshot
    }

    mutating func cancellation() throws -> Cancellation {
        let snapshot = try snapshot()
        let rescheduled = try bool()
        let present = try mask(4)
        var texts: [String?] = []
        for bit in 0..<3 { texts.append(present[bit] ? try string() : nil) }
        let canceledAt = present[3] ? try time() : nil
        return Cancellation(
            snapshot: snapshot, rescheduled: rescheduled, canceledBy: texts[0], reason: texts[1], cancelerType: texts[2],
            canceledAt: canceledAt)
    }

    private mutating func list() throws -> [String] {
        let count = try varint()
        guard count <= UInt64(bytes.count - at) else { throw Self.failure("a list of \(count) exceeds the data") }
        var list: [String] = []
        list.reserveCapacity(Int(count))
        for _ in 0..<count { list.append(try string()) }
        return list
    }

    func end() throws {
        guard at == bytes.count else { throw Self.failure("\(bytes.count - at) bytes after the facts") }
    }

    private static func failure(_ description: String) -> CompactFacts.Failure {
        CompactFacts.Failure(description: "stored facts: \(description)")
    }
}
