import AvailCore
import Testing

@Suite struct SignatureHeaderTests {
    static let digest = String(repeating: "ab", count: 32)
    static let other = String(repeating: "cd", count: 32)

    @Test func parsesTimestampAndSignature() throws {
        let header = try SignatureHeader(parsing: "t=1700000000,v1=\(Self.digest)")
        #expect(header.timestamp == 1_700_000_000)
        #expect(header.signatures == [[UInt8](repeating: 0xab, count: 32)])
    }

    @Test func keepsEverySignatureAndIgnoresUnknownSchemes() throws {
        let header = try SignatureHeader(parsing: " t=5 , v0=zzz, v1=\(Self.digest),v1=\(Self.other.uppercased()) ")
        #expect(header.timestamp == 5)
        #expect(header.signatures.count == 2)
        #expect(header.signatures[1] == [UInt8](repeating: 0xcd, count: 32))
    }

    @Test func writesTheFormItParses() throws {
        let header = SignatureHeader(timestamp: 42, signatures: [[UInt8](repeating: 1, count: 32)])
        #expect(try SignatureHeader(parsing: header.headerValue) == header)
        #expect(header.headerValue == "t=42,v1=" + String(repeating: "01", count: 32))
    }

    @Test(arguments: [
        ("", SignatureHeader.ParseError.empty),
        ("   ", .empty),
        ("garbage", .elementWithoutValue("garbage")),
        ("t=1700000000", .missingSignature),
        ("v1=\(digest)", .missingTimestamp),
        ("t=,v1=\(digest)", .invalidTimestamp("")),
        ("t=abc,v1=\(digest)", .invalidTimestamp("abc")),
        ("t=-5,v1=\(digest)", .invalidTimestamp("-5")),
        ("t=1.5,v1=\(digest)", .invalidTimestamp("1.5")),
        ("t=99999999999999999999,v1=\(digest)", .invalidTimestamp("99999999999999999999")),
        ("t=1,t=2,v1=\(digest)", .repeatedTimestamp),
        ("t=1,v1=", .invalidSignature("")),
        ("t=1,v1=abcd", .invalidSignature("abcd")),
        ("t=1,v1=\(String(repeating: "zz", count: 32))", .invalidSignature(String(repeating: "zz", count: 32))),
        ("t=1,v1=\(digest)ab", .invalidSignature(digest + "ab")),
        ("t=1,,v1=\(digest)", .elementWithoutValue("")),
    ])
    func refusesMalformedHeaders(header: String, expected: SignatureHeader.ParseError) {
        #expect(throws: expected) { try SignatureHeader(parsing: header) }
    }

    @Test func refusesAnOversizedHeaderWithoutParsingIt() {
        let header = "t=1," + String(repeating: "v1=\(Self.digest),", count: 100)
        #expect(throws: SignatureHeader.ParseError.empty) { try SignatureHeader(parsing: header) }
    }
}
