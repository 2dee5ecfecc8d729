import AvailCore
import Testing

@Suite struct ExpertTokenTests {
    @Test func aBearerRoundTrips() throws {
        let token = ExpertToken.generate()
        #expect(token.bearer.hasPrefix("availd_"))
        #expect(ExpertToken(bearer: token.bearer) == token)
        #expect(ExpertToken.isValidID(token.id))
    }

    @Test func tokensAreNotRepeated() {
        let tokens = (0..<1000).map { _ in ExpertToken.generate() }
        #expect(Set(tokens.map(\.secret)).count == 1000)
        #expect(Set(tokens.map(\.id)).count == 1000)
    }

    @Test(arguments: [
        "", "availd_", "test-admin-token", "Bearer x",
        // One character short, one too many, a bad separator, a non-base32 id, a bad secret byte.
        String(ExpertToken.generate().bearer.dropLast()),
        ExpertToken.generate().bearer + "A",
        { var t = Array(ExpertToken.generate().bearer); t[33] = "-"; return String(t) }(),
        { var t = Array(ExpertToken.generate().bearer); t[7] = "1"; return String(t) }(),
        { var t = Array(ExpertToken.generate().bearer); t[40] = "+"; return String(t) }(),
    ])
    func anythingElseIsNotAToken(text: String) {
        #expect(ExpertToken(bearer: text) == nil)
    }

    @Test func matchingNeedsTheWholeSecret() {
        let token = ExpertToken.generate()
        #expect(ExpertToken.matches(secret: token.secret, storedHash: token.secretHash))
        #expect(!ExpertToken.matches(secret: String(token.secret.dropLast()), storedHash: token.secretHash))
        #expect(!ExpertToken.matches(secret: token.secret, storedHash: Array(token.secretHash.dropLast())))
    }
}
