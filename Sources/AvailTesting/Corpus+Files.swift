import AvailCore
import AvailWorkload
import Foundation

/// The repository's fixture files, for the tests (the shipped availd-sim has no repository).
extension Corpus {
    /// Every delivery body under `fixtures/deliveries/` (duplicates included), in path order.
    public static func fixtureBodies() throws -> [Data] {
        try bodies(below: TestPaths.fixtures.appendingPathComponent("deliveries"))
    }

    /// The thirteen bodies Calendly published or real integrations captured.
    public static func sampleBodies() throws -> [Data] {
        try bodies(below: TestPaths.calendlySamples)
    }

    private static func bodies(below folder: URL) throws -> [Data] {
        try TestPaths.deliveryFiles(below: folder).flatMap { url in
            DeliveryFile.bodies(contents: try Data(contentsOf: url), isJSONLines: url.pathExtension == "jsonl").map(\.bytes)
        }
    }
}
