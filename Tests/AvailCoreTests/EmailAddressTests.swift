@testable import AvailCore
import Foundation
import Testing

/// Host emails are matched after `EmailAddress.normalize`; its ASCII path must give exactly
/// what Foundation's trimming, lower-casing and NFC give.
@Suite struct EmailAddressTests {
    @Test func theASCIIPathAgreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        // Every ASCII byte, white space and case more often than the rest.
        let bytes = Array(0..<0x80).map(UInt8.init) + Array(repeating: Array(" \t\n\r\u{0B}\u{0C}AZaz@.".utf8), count: 4).flatMap { $0 }
        for _ in 0..<20_000 {
            let text = String(decoding: (0..<Int.random(in: 0...12, using: &generator)).map { _ in bytes.randomElement(using: &generator)! }, as: UTF8.self)
            let foundation = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().nfc
            #expect(EmailAddress.asciiNormalized(text) == foundation, "\(Array(text.utf8))")
        }
    }

    @Test func normalizes() {
        #expect(EmailAddress.normalize("  Ada.Lovelace@Experts.EXAMPLE \r\n") == "ada.lovelace@experts.example")
        #expect(EmailAddress.normalize(" \t\u{0B}\u{0C} ") == "")
        #expect(EmailAddress.normalize("a\u{1F}") == "a\u{1F}")  // not white space to Foundation either
        // Not ASCII: Foundation's path, which also trims U+00A0 and composes é.
        #expect(EmailAddress.asciiNormalized("Zoe\u{301}@Example.com\u{A0}") == nil)
        #expect(EmailAddress.normalize("Zoe\u{301}@Example.com\u{A0}") == "zo\u{E9}@example.com")
    }
}
