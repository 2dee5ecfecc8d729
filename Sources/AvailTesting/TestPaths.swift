import Foundation

/// Where the repository's data lives, found from this source file, so tests run from any
/// working directory.
public enum TestPaths {
    /// The package root.
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `fixtures/` of this repository.
    public static var fixtures: URL { repository.appendingPathComponent("fixtures") }

    /// The delivery bodies Calendly published or real integrations captured, copied into
    /// `fixtures/calendly-samples/` so a clean clone has them.
    public static var calendlySamples: URL { fixtures.appendingPathComponent("calendly-samples") }

    /// The `.json` files directly in `folder`, sorted.
    public static func jsonFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// Every `.json` and `.jsonl` file below `folder`, sorted by path.
    public static func deliveryFiles(below folder: URL) -> [URL] {
        let walker = FileManager.default.enumerator(atPath: folder.path)
        let names = (walker?.allObjects as? [String]) ?? []
        return names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }
}

/// A fresh folder under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    public init(prefix: String = "availd-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
