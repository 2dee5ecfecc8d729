import Crypto
import Foundation

/// The log's hash chain: each entry's hash covers the previous entry's hash and every field of
/// its own, so changing, removing or reordering any stored entry breaks every hash after it.
///
/// Fields are length-prefixed, so no two different entries serialise to the same bytes.
public enum ChainHash {
    /// The "previous hash" of position 1.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    public static func hash(previous: [UInt8], position: Int64, streamVersion: Int64, event: NewEvent) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(integer: position)
        hasher.update(field: Array(event.stream.description.utf8))
        hasher.update(integer: streamVersion)
        hasher.update(field: Array(event.type.utf8))
        hasher.update(field: Array(event.source.rawValue.utf8))
        hasher.update(field: Array(event.recordedAt.description.utf8))
        hasher.update(field: Array(event.dedupeKey.rawValue.utf8))
        hasher.update(field: Array((event.signature ?? "").utf8))
        hasher.update(field: event.body)
        return Array(hasher.finalize())
    }
}

extension SHA256 {
    fileprivate mutating func update(integer: Int64) {
        withUnsafeBytes(of: integer.bigEndian) { update(bufferPointer: $0) }
    }

    fileprivate mutating func update<Bytes: DataProtocol>(field: Bytes) {
        update(integer: Int64(field.count))
        update(data: field)
    }
}
