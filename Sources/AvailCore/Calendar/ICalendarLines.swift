/// RFC 5545 content lines: escaping TEXT values, UTC DATE-TIMEs, CRLF and folding.
///
/// Written by hand rather than with a library: the feed needs only a handful of properties,
/// and these three rules are where hand-written calendars usually go wrong.
public struct ICalendarLines: Sendable {
    /// The longest a line may be, in octets, not counting its CRLF (RFC 5545 §3.1).
    public static let maxOctets = 75

    private var bytes: [UInt8] = []

    public init() {}

    /// The whole object: every line folded and ended with CRLF.
    public var utf8: [UInt8] { bytes }

    /// Appends `name:value`, folded; `value` must already be escaped where it is TEXT.
    public mutating func append(_ name: String, _ value: String) {
        Self.fold(Array((name + ":" + value).utf8), into: &bytes)
    }

    /// Appends a TEXT property, escaped.
    public mutating func append(_ name: String, text: String) {
        append(name, Self.escape(text))
    }

    /// Appends a DATE-TIME property in UTC (`YYYYMMDDTHHMMSSZ`).
    public mutating func append(_ name: String, utc time: Timestamp) {
        append(name, Self.utc(time))
    }

    /// RFC 5545 §3.3.11: backslash, semicolon and comma are escaped, a line break becomes `\n`;
    /// other control characters, which TEXT may not hold, are dropped.
    public static func escape(_ text: String) -> String {
        var out = ""
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\r": out += "\\n"
            case "\n": if !previousWasCR { out += "\\n" }
            case "\t": out.unicodeScalars.append(scalar)
            default:
                if scalar.properties.generalCategory == .control { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `YYYYMMDDTHHMMSSZ`: RFC 5545's UTC form, whole seconds.
    public static func utc(_ time: Timestamp) -> String {
        // Timestamp's RFC 3339 form is fixed-width: `2026-03-02T15:04:05.123456Z`.
        let text = Array(time.description.utf8)
        var picked: [UInt8] = []
        for range in [0..<4, 5..<7, 8..<10] { picked += text[range] }
        picked.append(UInt8(ascii: "T"))
        for range in [11..<13, 14..<16, 17..<19] { picked += text[range] }
        picked.append(UInt8(ascii: "Z"))
        return String(decoding: picked, as: UTF8.self)
    }

    /// Splits `line` into pieces of at most 75 octets, each after the first starting with a
    /// space (which counts), never inside a UTF-8 sequence, each ended with CRLF.
    static func fold(_ line: [UInt8], into out: inout [UInt8]) {
        var start = 0
        var first = true
        while true {
            let room = first ? maxOctets : maxOctets - 1
            var end = min(start + room, line.count)
            // Back up over continuation bytes (10xxxxxx) so a sequence is never cut.
            while end < line.count, end > start, line[end] & 0xC0 == 0x80 { end -= 1 }
            if !first { out.append(UInt8(ascii: " ")) }
            out += line[start..<end]
            out += [13, 10]
            start = end
            first = false
            if start >= line.count { return }
        }
    }
}
