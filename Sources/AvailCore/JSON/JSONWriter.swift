/// Writes canonical JSON by hand: keys in the order given (callers give them sorted), no
/// white space, `/` unescaped, every other character escaped exactly as `JSONEncoder` does.
/// Used where `JSONEncoder` was the cost: the digest lines and the appointments availd answers.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    /// `{ … }`; `fields` writes the members through `Fields`.
    mutating func object(_ fields: (inout Fields) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        var members = Fields(writer: self)
        self = JSONWriter(capacity: 0)
        fields(&members)
        self = members.writer
        bytes.append(UInt8(ascii: "}"))
    }

    struct Fields {
        fileprivate var writer: JSONWriter
        private var first = true

        fileprivate init(writer: JSONWriter) {
            self.writer = writer
        }

        private mutating func key(_ name: StaticString) {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            writer.bytes.append(UInt8(ascii: "\""))
            writer.bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            writer.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        mutating func string(_ name: StaticString, _ value: String?) {
            key(name)
            writer.string(value)
        }

        mutating func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            writer.literal(value ? "true" : "false")
        }

        /// A nested value.
        mutating func value(_ name: StaticString, _ write: (inout JSONWriter) -> Void) {
            key(name)
            write(&writer)
        }

        /// A nested value, or `null`.
        mutating func value(_ name: StaticString, _ write: ((inout JSONWriter) -> Void)?) {
            key(name)
            if let write { write(&writer) } else { writer.literal("null") }
        }
    }

    /// `true`, `false`, `null`.
    mutating func literal(_ word: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    mutating func string(_ text: String?) {
        guard var value = text else {
            literal("null")
            return
        }
        bytes.append(UInt8(ascii: "\""))
        let plain = value.withUTF8 { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                    hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
