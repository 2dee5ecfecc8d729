import Foundation

extension String {
    /// This text in Unicode Normalization Form C: the one spelling availd keys by.
    ///
    /// Swift's `==` and hashing hold canonically equivalent spellings equal (é as U+00E9, or
    /// as e and U+0301), SQLite's keys compare bytes. Emails and URIs the read models key by
    /// are normalised where they enter the fold, so both agree. ASCII (every key Calendly
    /// mints) is already NFC and stays as it is.
    public var nfc: String {
        utf8.allSatisfy { $0 < 0x80 } ? self : precomposedStringWithCanonicalMapping
    }
}
