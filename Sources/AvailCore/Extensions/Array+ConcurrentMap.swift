import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `map(transform)` on every core, in order: the array is cut into a few slices per core
    /// (none shorter than `minimumSlice`), which the cores take as they come free, so one core
    /// slowed by other work does not hold the rest back. For pure transforms that cost more
    /// than a thread hop.
    public func concurrentMap<T: Sendable>(minimumSlice: Int = 64, _ transform: (Element) -> T) -> [T] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let slices = Swift.max(1, Swift.min(cores * 4, count / Swift.max(1, minimumSlice)))
        guard cores > 1, slices > 1 else { return map(transform) }
        return withoutActuallyEscaping(transform) { transform in
            nonisolated(unsafe) let transform = transform
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                // Each slice initialises only its own part of the buffer, so the writes never overlap.
                nonisolated(unsafe) let output = buffer
                DispatchQueue.concurrentPerform(iterations: slices) { slice in
                    for index in count * slice / slices..<count * (slice + 1) / slices {
                        (output.baseAddress! + index).initialize(to: transform(self[index]))
                    }
                }
                initialized = count
            }
        }
    }
}
