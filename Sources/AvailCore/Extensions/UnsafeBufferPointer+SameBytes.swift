import Foundation

extension UnsafeBufferPointer<UInt8> {
    /// The same bytes as `other`: the lengths first, then `memcmp` (a generic `elementsEqual`
    /// steps an iterator byte by byte; on the rebuild's path that showed in the profile).
    func hasSameBytes(as other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count == other.count else { return false }
        guard let base = baseAddress, let otherBase = other.baseAddress else { return true }
        return memcmp(base, otherBase, count) == 0
    }
}
