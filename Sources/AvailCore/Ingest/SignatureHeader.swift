/// The parsed `Calendly-Webhook-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
///
/// Unknown schemes (`v0=…`) are ignored, as Stripe-style verifiers do, so a future scheme does
/// not break verification; but the header must carry exactly one `t` and at least one
/// well-formed `v1`.
public struct SignatureHeader: Sendable, Equatable {
    /// Seconds since the Unix epoch, as the sender claimed.
    public var timestamp: Int64
    /// Every `v1` digest in the header: 32 bytes each.
    public var signatures: [[UInt8]]

    public init(timestamp: Int64, signatures: [[UInt8]]) {
        self.timestamp = timestamp
        self.signatures = signatures
    }

    /// Why a header could not be parsed; each case reads as the reason shown to the sender.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case elementWithoutValue(String)
        case missingTimestamp
        case repeatedTimestamp
        case invalidTimestamp(String)
        case missingSignature
        case invalidSignature(String)

        public var description: String {
            switch self {
            case .empty: "the header is empty"
            case .elementWithoutValue(let element): "element '\(element.prefix(32))' is not key=value"
            case .missingTimestamp: "no t= element"
            case .repeatedTimestamp: "more than one t= element"
            case .invalidTimestamp(let value): "t='\(value.prefix(32))' is not a Unix time in seconds"
            case .missingSignature: "no v1= element"
            case .invalidSignature(let value): "v1='\(value.prefix(80))' is not 64 hex digits"
            }
        }
    }

    /// Headers longer than this are refused unparsed; a real one is about 80 bytes.
    public static let maximumLength = 4096

    public init(parsing header: String) throws(ParseError) {
        let trimmed = header.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty, trimmed.utf8.count <= Self.maximumLength else { throw .empty }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for rawElement in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let element = Substring(rawElement).trimmingASCIIWhitespace()
            guard let equals = element.firstIndex(of: "=") else {
                throw .elementWithoutValue(String(element))
            }
            let key = element[..<equals].trimmingASCIIWhitespace()
            let value = element[element.index(after: equals)...].trimmingASCIIWhitespace()
            switch key {
            case "t":
                guard timestamp == nil else { throw .repeatedTimestamp }
                guard value.utf8.count <= 12, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let seconds = Int64(value)
                else { throw .invalidTimestamp(String(value)) }
                timestamp = seconds
            case "v1":
                guard let digest = Hex.decode(value), digest.count == 32 else {
                    throw .invalidSignature(String(value))
                }
                signatures.append(digest)
            default:
                continue
            }
        }
        guard let timestamp else { throw .missingTimestamp }
        guard !signatures.isEmpty else { throw .missingSignature }
        self.init(timestamp: timestamp, signatures: signatures)
    }

    /// The header as Calendly writes it.
    public var headerValue: String {
        (["t=\(timestamp)"] + signatures.map { "v1=\(Hex.encode($0))" }).joined(separator: ",")
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let string = Substring(self)
        guard let first = string.firstIndex(where: { !isSpace($0) }),
            let last = string.lastIndex(where: { !isSpace($0) })
        else { return string[string.endIndex...] }
        return string[first...last]
    }
}
