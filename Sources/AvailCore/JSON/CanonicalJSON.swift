import Foundation

extension JSONEncoder {
    /// Sorted keys, unescaped slashes, no white space: equal values give equal bytes, which the
    /// log's own event bodies, the digest and stored JSON columns rely on.
    public static func canonical() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
