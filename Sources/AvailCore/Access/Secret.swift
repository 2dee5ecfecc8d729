/// Random secrets for first-run signing keys and tokens.
public enum Secret {
    /// 32 random bytes as unpadded base64url (43 characters), the shape of Calendly's keys.
    /// `SystemRandomNumberGenerator` reads the kernel's CSPRNG (getrandom on Linux).
    ///
    /// Never one that starts with `-`: availd prints the secrets it creates for operators to
    /// pass as `--signing-key KEY` or `--admin-token TOKEN`, and a command line reads a value
    /// starting with `-` as an option. Drawn again instead (1 in 64), which keeps the rest uniform.
    public static func generate(byteCount: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let secret = base64URL(bytes)
            if !secret.hasPrefix("-") { return secret }
        }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for (offset, byte) in chunk.enumerated() { value |= Int(byte) << (16 - offset * 8) }
            for position in 0...chunk.count { out.append(alphabet[(value >> (18 - position * 6)) & 0x3f]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `byte` is in the base64url alphabet.
    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    /// Compares two secrets in time that depends only on their lengths.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        constantTimeEquals(Array(lhs.utf8), Array(rhs.utf8))
    }

    /// Compares two byte strings (secrets, or their hashes) in time that depends only on their lengths.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
