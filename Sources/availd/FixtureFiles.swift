import ArgumentParser
import AvailCore
import Foundation

/// Reads delivery bodies from fixture files and folders (the README, "Commands": `replay`).
enum FixtureFiles {
    struct Body {
        /// `file` or `file:line`, for messages.
        var origin: String
        var bytes: Data
    }

    static func bodies(at paths: [String]) throws -> [Body] {
        try paths.flatMap { path in try files(at: path) }.flatMap { file in
            let isJSONLines = file.hasSuffix(".jsonl")
            let contents = try Data(contentsOf: URL(fileURLWithPath: file))
            return DeliveryFile.bodies(contents: contents, isJSONLines: isJSONLines).map {
                Body(origin: isJSONLines ? "\(file):\($0.line)" : file, bytes: $0.bytes)
            }
        }
    }

    /// A file as given; a folder's `*.json` and `*.jsonl` files, recursively, sorted by path.
    static func files(at path: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ValidationError("\(path): no such file or folder")
        }
        guard isFolder.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") }
            .sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }
}
