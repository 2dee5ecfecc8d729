import Foundation

extension String {
    /// This text in Unicode Normalization Form C: the one spelling availd keys by.
    ///
    /// Swift's `==` and hashing hold canonically equivalent spellings equal (é as U+00E9, or
    /// as e and U+0301), SQLite's keys compare bytes. Emails and URIs the read models key by
    /// are normalised where they enter the fold, so both agree. ASCII (every key Calendly
    /// mints) is already NFC and stays as it is.
    public var nfc: String {
        isASCII ? self : precomposedStringWithCanonicalMapping
    }

    /// Whether every byte is below 0x80, read in place (an OR over the bytes, which the
    /// compiler vectorises; iterating `utf8` was a twentieth of a rebuild's decode).
    var isASCII: Bool {
        var text = self
        return text.withUTF8 { utf8 in
            var bits: UInt8 = 0
            for byte in utf8 { bits |= byte }
            return bits < 0x80
        }
    }
}
