import Foundation

/// Splits a fixture file into delivery bodies (the README, "Commands": `replay`): a `.json` file is
/// one body less trailing white space; a `.jsonl` file is one body per line (blank lines skipped,
/// a `\r` before the newline dropped).
public enum DeliveryFile {
    public struct Body: Sendable {
        /// 1-based line for `.jsonl`, 1 for `.json`.
        public var line: Int
        public var bytes: Data
    }

    public static func bodies(contents: Data, isJSONLines: Bool) -> [Body] {
        let bytes = [UInt8](contents)
        guard isJSONLines else {
            return [Body(line: 1, bytes: Data(bytes[..<trimmedEnd(bytes, 0, bytes.count)]))]
        }
        var bodies: [Body] = []
        var start = 0
        var line = 1
        while start <= bytes.count {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var end = newline
            if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if bytes[start..<end].contains(where: { !isSpace($0) }) {
                bodies.append(Body(line: line, bytes: Data(bytes[start..<end])))
            }
            start = newline + 1
            line += 1
        }
        return bodies
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }

    private static func trimmedEnd(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        var end = end
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return end
    }
}
