import Foundation

/// Facts about JSON text read before decoding it.
public enum JSONText {
    /// Whether a JSON string in `body` holds `\u0000`: a backslash that escapes (an odd run of
    /// backslashes), `u`, and four zeros. SQLite text cannot hold U+0000 (it would be read back
    /// cut short), so neither deliveries nor command bodies may carry one.
    public static func containsEscapedNUL(_ body: Data) -> Bool {
        body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            var index = 0
            while index + 5 < bytes.count {
                guard bytes[index] == UInt8(ascii: "\\") else { index += 1; continue }
                var run = 0
                while index < bytes.count, bytes[index] == UInt8(ascii: "\\") { run += 1; index += 1 }
                if run % 2 == 1, index + 4 < bytes.count, bytes[index] == UInt8(ascii: "u"),
                   bytes[(index + 1)...(index + 4)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                    return true
                }
            }
            return false
        }
    }

    /// Whether `body` holds a NUL byte: `memchr` over its bytes (iterating `Data` goes byte by
    /// byte through its iterator, the hottest line of ingest once).
    public static func containsNULByte(_ body: Data) -> Bool {
        body.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, 0, bytes.count) != nil
        }
    }
}
