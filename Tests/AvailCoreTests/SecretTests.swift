import AvailCore
import Testing

@Suite struct SecretTests {
    /// 43 base64url characters, all different, and none a command line would read as an
    /// option: without the redraw, about 156 of these 10,000 would start with `-`.
    @Test func generatedSecretsAreBase64URLAndNeverStartWithADash() {
        let secrets = (0..<10_000).map { _ in Secret.generate() }
        #expect(Set(secrets).count == secrets.count)
        #expect(secrets.allSatisfy { $0.utf8.count == 43 })
        #expect(secrets.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } })
        #expect(!secrets.contains { $0.hasPrefix("-") })
        // The dash is still drawn elsewhere: the alphabet is not narrowed.
        #expect(secrets.contains { $0.dropFirst().contains("-") })
    }
}
